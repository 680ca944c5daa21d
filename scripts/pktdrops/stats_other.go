//go:build !linux

package main

import "errors"

func stats(int) (counters, error) {
	return counters{}, errors.New("packet socket counters are Linux's")
}
