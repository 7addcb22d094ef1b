package supervisor

import (
	"fmt"
	"os/user"
	"strconv"
	"syscall"
)

// workerCredential resolves -u/--user and -g/--group (names or numeric ids) into the
// identity workers run as; nil when both are empty or name the master's own
// identity. A user without a group runs with the user's primary group. Supplementary
// groups are dropped, so that a worker started by root keeps none of root's groups.
func workerCredential(userName, groupName string) (*syscall.Credential, error) {
	if userName == "" && groupName == "" {
		return nil, nil
	}
	cred := &syscall.Credential{Uid: uint32(syscall.Getuid()), Gid: uint32(syscall.Getgid())}
	if userName != "" {
		u, err := lookupUser(userName)
		if err != nil {
			return nil, err
		}
		uid, err := strconv.ParseUint(u.Uid, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("user %q: uid %q: %w", userName, u.Uid, err)
		}
		gid, err := strconv.ParseUint(u.Gid, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("user %q: gid %q: %w", userName, u.Gid, err)
		}
		cred.Uid, cred.Gid = uint32(uid), uint32(gid)
	}
	if groupName != "" {
		gid, err := lookupGroup(groupName)
		if err != nil {
			return nil, err
		}
		cred.Gid = gid
	}
	if syscall.Geteuid() != 0 {
		if int(cred.Uid) == syscall.Getuid() && int(cred.Gid) == syscall.Getgid() {
			return nil, nil
		}
		return nil, fmt.Errorf("running workers as uid %d gid %d needs a master started as root", cred.Uid, cred.Gid)
	}
	return cred, nil
}

func lookupUser(name string) (*user.User, error) {
	if _, err := strconv.ParseUint(name, 10, 32); err == nil {
		if u, err := user.LookupId(name); err == nil {
			return u, nil
		}
		// A numeric id with no passwd entry is still a valid identity.
		return &user.User{Uid: name, Gid: strconv.Itoa(syscall.Getgid())}, nil
	}
	u, err := user.Lookup(name)
	if err != nil {
		return nil, fmt.Errorf("user %q: %w", name, err)
	}
	return u, nil
}

func lookupGroup(name string) (uint32, error) {
	if id, err := strconv.ParseUint(name, 10, 32); err == nil {
		return uint32(id), nil
	}
	g, err := user.LookupGroup(name)
	if err != nil {
		return 0, fmt.Errorf("group %q: %w", name, err)
	}
	id, err := strconv.ParseUint(g.Gid, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("group %q: gid %q: %w", name, g.Gid, err)
	}
	return uint32(id), nil
}

// WorkerIDs resolves -u/--user and -g/--group as the master will run its workers:
// set is false when the workers keep the master's identity. A master started as
// root gives the workers' log files to these ids, so that workers can reopen them.
func WorkerIDs(userName, groupName string) (uid, gid int, set bool, err error) {
	cred, err := workerCredential(userName, groupName)
	if err != nil || cred == nil {
		return 0, 0, false, err
	}
	return int(cred.Uid), int(cred.Gid), true, nil
}
