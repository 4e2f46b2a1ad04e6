//go:build !unix

package pgtest

// findBinaries reports no binaries: this package starts servers on unix
// systems only. AUTHZ_PG_URL works everywhere.
func findBinaries() (binaries, error) { return binaries{}, errNoBinaries }

type binaries struct{}

type cluster struct{}

func startCluster(binaries) (*server, error) { return nil, errNoBinaries }

func (*cluster) stop() {}
