// Command authz operates authz stores from the command line: it validates,
// applies and tests model files, exports, imports and backs up stores,
// checks their integrity, and answers authorization questions.
//
//	authz validate model.yaml              # every problem of a model file, at once
//	authz test examples/models/*_test.yaml # model tests; exit status 1 on a failure
//	authz apply --db authz.bolt model.yaml
//	authz eval --db authz.bolt --subject bob --scope acme_api --action read --resource doc_design
//	authz export --pg postgres://app@db/app > backup.jsonl
//	authz changes --pg postgres://app@db/app --follow # the audit feed, as writes commit
//
// A store is named by --db FILE (a bolt file, created if missing) or --pg
// URL (PostgreSQL, with --pg-schema, default "authz"). Results go to
// standard output, problems and progress to standard error. The exit
// status is 0 on success, 1 when the work failed (a problem in a file, a
// failing test, a store that fails its check, an error of the store), and
// 2 for a wrong command line. Run authz help COMMAND for each command's
// flags.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// usageError is a wrong command line: exit status 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// errFailed is work that failed after its problems were reported: exit status
// 1, with nothing more to print.
var errFailed = errors.New("failed")

// run runs the command line args and returns the exit status.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	root := newRoot(&env{stdin: stdin, stdout: stdout, stderr: stderr})
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	var ue usageError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errFailed):
		return 1
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "authz: %v\nRun 'authz help' for usage.\n", ue.err)
		return 2
	}
	fmt.Fprintf(stderr, "authz: %v\n", err)
	return 1
}

// env is what the commands read and write.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	// the store flags
	db, pg, pgSchema string
	// listen makes a pgstore listen for other processes' commits.
	listen bool
}

func newRoot(e *env) *cobra.Command {
	root := &cobra.Command{
		Use:   "authz",
		Short: "Operate authz stores: model files, tests, export, import, backup, check, decisions",
		Long: "authz operates authz stores: it validates, applies and tests model files, exports,\n" +
			"imports and backs up stores, checks their integrity, and answers authorization questions.\n\n" +
			"A store is named by --db FILE (a bolt file) or --pg URL (PostgreSQL). The exit status is\n" +
			"0 on success, 1 when the work failed, 2 for a wrong command line.",
		SilenceUsage:  true,
		SilenceErrors: true,
		Args: func(_ *cobra.Command, a []string) error {
			if len(a) > 0 {
				return usageError{fmt.Errorf("unknown command %q", a[0])}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(
		validateCmd(e), testCmd(e), applyCmd(e), exportCmd(e), importCmd(e), backupCmd(e),
		checkCmd(e), evalCmd(e), lookupCmd(e), changesCmd(e), serveCmd(e),
	)
	return root
}

// args wraps a cobra argument check so that its error is a usage error.
func args(check cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, a []string) error {
		if err := check(cmd, a); err != nil {
			return usageError{err}
		}
		return nil
	}
}
