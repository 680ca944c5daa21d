package daemon

import (
	"fmt"
	"os/user"
	"strconv"
	"syscall"
)

// DropPrivileges switches the whole process (every thread) to the user
// and/or group given by name or number, as nfcapd -u/-g do after binding
// the socket. With a user and no group it takes the user's primary group.
// The supplementary groups are reduced to the new group. Empty names leave
// that part unchanged.
func DropPrivileges(userName, groupName string) error {
	if userName == "" && groupName == "" {
		return nil
	}
	uid, gid := -1, -1
	if userName != "" {
		u, err := user.Lookup(userName)
		if err != nil {
			if _, nerr := strconv.Atoi(userName); nerr == nil {
				u, err = user.LookupId(userName)
			}
		}
		if err != nil {
			return fmt.Errorf("user %s: %w", userName, err)
		}
		uid, _ = strconv.Atoi(u.Uid)
		gid, _ = strconv.Atoi(u.Gid)
	}
	if groupName != "" {
		g, err := user.LookupGroup(groupName)
		if err != nil {
			if _, nerr := strconv.Atoi(groupName); nerr == nil {
				g, err = user.LookupGroupId(groupName)
			}
		}
		if err != nil {
			return fmt.Errorf("group %s: %w", groupName, err)
		}
		gid, _ = strconv.Atoi(g.Gid)
	}
	// Group first: once the uid is gone, changing groups is not allowed.
	if gid >= 0 {
		if err := syscall.Setgroups([]int{gid}); err != nil {
			return fmt.Errorf("setgroups %d: %w", gid, err)
		}
		if err := syscall.Setgid(gid); err != nil {
			return fmt.Errorf("setgid %d: %w", gid, err)
		}
	}
	if uid >= 0 {
		if err := syscall.Setuid(uid); err != nil {
			return fmt.Errorf("setuid %d: %w", uid, err)
		}
	}
	return nil
}
