package main

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestMain runs main with the arguments of HTTPSERVER_ARGS when
// HTTPSERVER_RUN_MAIN is set, for the tests that run the server as a
// process.
func TestMain(m *testing.M) {
	if os.Getenv("HTTPSERVER_RUN_MAIN") == "1" {
		os.Args = append([]string{"httpserver"}, strings.Fields(os.Getenv("HTTPSERVER_ARGS"))...)
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestUsageNeverShowsTheToken: the usage the server prints for -h and for
// a flag it does not know (on stderr, often into a log) must not show the
// token of AUTHZ_TOKEN, as a flag's default would.
func TestUsageNeverShowsTheToken(t *testing.T) {
	const secret = "s3cret-token-value"
	for _, args := range []string{"-h", "-no-such-flag", "-max-concurrent nope"} {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "HTTPSERVER_RUN_MAIN=1", "HTTPSERVER_ARGS="+args, "AUTHZ_TOKEN="+secret)
		out, _ := cmd.CombinedOutput()
		if !strings.Contains(string(out), "-token") {
			t.Fatalf("%s: got %q; want the usage", args, out)
		}
		if strings.Contains(string(out), secret) {
			t.Errorf("%s: the usage shows the token:\n%s", args, out)
		}
	}
}
