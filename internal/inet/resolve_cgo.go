//go:build cgo

package inet

/*
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>

// port returns the port of the first address of res.
static int port(struct addrinfo *res) {
	if (res->ai_family == AF_INET)
		return ntohs(((struct sockaddr_in *)res->ai_addr)->sin_port);
	if (res->ai_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)res->ai_addr)->sin6_port);
	return -1;
}

// addr copies the address of res into b (4 or 16 bytes) and returns its
// length, 0 for another family.
static int addr(struct addrinfo *res, unsigned char *b) {
	if (res->ai_family == AF_INET) {
		memcpy(b, &((struct sockaddr_in *)res->ai_addr)->sin_addr, 4);
		return 4;
	}
	if (res->ai_family == AF_INET6) {
		memcpy(b, &((struct sockaddr_in6 *)res->ai_addr)->sin6_addr, 16);
		return 16;
	}
	return 0;
}
*/
import "C"

import (
	"fmt"
	"net/netip"
	"unsafe"
)

// gaiError is getaddrinfo's error for code.
func gaiError(what string, code C.int) error {
	return fmt.Errorf("lookup %s: %s", what, C.GoString(C.gai_strerror(code)))
}

func lookupHost(host string, family Family) ([]netip.Addr, error) {
	var hints C.struct_addrinfo
	hints.ai_socktype = C.SOCK_DGRAM // one answer an address
	switch family {
	case IPv4:
		hints.ai_family = C.AF_INET
	case IPv6:
		hints.ai_family = C.AF_INET6
	default:
		hints.ai_family = C.AF_UNSPEC
	}
	ch := C.CString(host)
	defer C.free(unsafe.Pointer(ch))
	var res *C.struct_addrinfo
	if code := C.getaddrinfo(ch, nil, &hints, &res); code != 0 {
		return nil, gaiError(host, code)
	}
	defer C.freeaddrinfo(res)
	var addrs []netip.Addr
	var b [16]byte
	for r := res; r != nil; r = r.ai_next {
		n := C.addr(r, (*C.uchar)(unsafe.Pointer(&b[0])))
		switch n {
		case 4:
			addrs = append(addrs, netip.AddrFrom4([4]byte(b[:4])))
		case 16:
			addrs = append(addrs, netip.AddrFrom16(b).Unmap())
		}
	}
	return addrs, nil
}

func lookupPort(network, service string) (int, error) {
	var hints C.struct_addrinfo
	hints.ai_family = C.AF_INET
	hints.ai_flags = C.AI_PASSIVE
	hints.ai_socktype = C.SOCK_DGRAM
	if network == "tcp" {
		hints.ai_socktype = C.SOCK_STREAM
	}
	cs := C.CString(service)
	defer C.free(unsafe.Pointer(cs))
	var res *C.struct_addrinfo
	if code := C.getaddrinfo(nil, cs, &hints, &res); code != 0 {
		return 0, gaiError(network+"/"+service, code)
	}
	defer C.freeaddrinfo(res)
	return int(C.port(res)), nil
}
