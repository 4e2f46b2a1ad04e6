package pgtest

import "syscall"

// sysProcAttr runs a binary with cred (nil: as this process) and stops it
// (immediate shutdown) when this process dies: a test binary killed by a timeout leaves no
// server behind.
func sysProcAttr(cred *syscall.Credential) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGQUIT}
}
