//go:build !unix

package pgtest

import "context"

// findBinaries reports no binaries: this package starts servers on unix
// systems only. AUTHZ_PG_URL works everywhere.
func findBinaries() (binaries, error) { return binaries{}, errNoBinaries }

type binaries struct{}

type cluster struct{}

func startCluster(binaries) (*server, error) { return nil, errNoBinaries }

func (*cluster) stop() {}

func (*cluster) shutdown() {}

func (*cluster) start() error { return errNoBinaries }

func (*cluster) waitReady(context.Context, string) error { return errNoBinaries }

// binGlob is unused here: no binaries are looked for.
var binGlob string
