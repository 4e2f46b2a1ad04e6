package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"reflect"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/scopegate/authz"
	"github.com/scopegate/authz/boltstore"
	"github.com/scopegate/authz/internal/httpapi"
	"github.com/scopegate/authz/memstore"
	"github.com/scopegate/authz/modelfile"
	"github.com/scopegate/authz/storage"
)

// reportModelErrors prints err's problems, one per line, to w, and returns
// errFailed; another error is returned as it is.
func reportModelErrors(w io.Writer, err error) error {
	var errs modelfile.Errors
	if !errors.As(err, &errs) {
		return err
	}
	for _, e := range errs {
		fmt.Fprintln(w, e)
	}
	return errFailed
}

// objects counts the objects of a batch.
func objects(b authz.Batch) int {
	n := 0
	v := reflect.ValueOf(b)
	for i := range v.NumField() {
		n += v.Field(i).Len()
	}
	return n
}

func validateCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "validate FILE...",
		Short: "Check model files: parse them and apply each to a scratch in-memory store",
		Long: "validate parses each model file (JSON, or YAML when named *.yaml or *.yml) and applies\n" +
			"it to a scratch in-memory store, and prints every problem it finds, each naming the\n" +
			"file, the line, the item and the field. The exit status is 1 if any file has a problem.",
		Args: args(cobra.MinimumNArgs(1)),
		RunE: func(cmd *cobra.Command, files []string) error {
			bad := false
			for _, f := range files {
				m, err := modelfile.Load(f)
				if err == nil {
					var c *authz.Client
					if c, err = authz.New(memstore.New(), nil); err == nil {
						_, err = m.Apply(cmd.Context(), c)
					}
				}
				if err != nil {
					if rerr := reportModelErrors(e.stderr, err); !errors.Is(rerr, errFailed) {
						return rerr
					}
					bad = true
					continue
				}
				fmt.Fprintf(e.stdout, "%s: ok (%d objects)\n", f, objects(m.Batch))
			}
			if bad {
				return errFailed
			}
			return nil
		},
	}
}

func testCmd(e *env) *cobra.Command {
	verbose := false
	cmd := &cobra.Command{
		Use:   "test FILE...",
		Short: "Run model test files",
		Long: "test runs each test file: it loads the model the file names into an in-memory store and\n" +
			"asks each test's question. A failing test is printed with what it got, what it wanted and\n" +
			"the decision's explanation. The exit status is 1 if a test fails.",
		Args: args(cobra.MinimumNArgs(1)),
		RunE: func(cmd *cobra.Command, files []string) error {
			passed, failedTests := 0, 0
			for _, f := range files {
				tf, err := modelfile.LoadTests(f)
				if err != nil {
					return reportModelErrors(e.stderr, err)
				}
				results, err := tf.Run(cmd.Context())
				if err != nil {
					return reportModelErrors(e.stderr, err)
				}
				for _, r := range results {
					where := f
					if r.Test.Line > 0 {
						where = fmt.Sprintf("%s:%d", f, r.Test.Line)
					}
					if r.Passed() {
						passed++
						if verbose {
							fmt.Fprintf(e.stdout, "ok   %s: %s\n", where, r.Test.Name)
						}
						continue
					}
					failedTests++
					fmt.Fprintf(e.stdout, "FAIL %s: %s\n     %s\n", where, r.Test.Name, strings.ReplaceAll(r.Failure, "\n", "\n     "))
				}
			}
			fmt.Fprintf(e.stdout, "%d passed, %d failed\n", passed, failedTests)
			if failedTests > 0 {
				return errFailed
			}
			return nil
		},
	}
	cmd.Flags().BoolVarP(&verbose, "verbose", "v", false, "print the tests that pass too")
	return cmd
}

func applyCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "apply FILE",
		Short: "Apply a model file to a store, in one batch",
		Long: "apply applies a model file to the store in one atomic batch: all of it or nothing. The\n" +
			"problems of a refused batch are printed each naming the file, the line, the item and the field.",
		Args: args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, a []string) error {
			m, err := modelfile.Load(a[0])
			if err != nil {
				return reportModelErrors(e.stderr, err)
			}
			return e.withStore(cmd.Context(), func(_ storage.Storage, c *authz.Client) error {
				res, err := m.Apply(cmd.Context(), c)
				if err != nil {
					return reportModelErrors(e.stderr, err)
				}
				fmt.Fprintf(e.stdout, "applied %d objects from %s; the store is at revision %d\n", objects(m.Batch), a[0], res.Revision)
				return nil
			})
		},
	}
	storeFlags(cmd, e)
	return cmd
}

func exportCmd(e *env) *cobra.Command {
	output, scope := "", ""
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Write the whole store as JSON Lines (to standard output, or -o FILE)",
		Long: "export writes the whole store, from one snapshot, in the export format that import reads:\n" +
			"a header, one object per line in dependency order, a trailer. With -o it writes a new file\n" +
			"and renames it into place only when complete.",
		Args: args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return e.withStore(cmd.Context(), func(_ storage.Storage, c *authz.Client) error {
				w, commit, abort, err := output2(e.stdout, output)
				if err != nil {
					return err
				}
				update, finish := progress(e.stderr, -1, "exported objects")
				cw := &lineCounter{w: w, update: update}
				sum, err := c.Export(cmd.Context(), cw, &authz.ExportOptions{ScopeID: scope})
				finish()
				if err != nil {
					abort()
					return err
				}
				if err := commit(); err != nil {
					return err
				}
				fmt.Fprintf(e.stderr, "exported %d objects at revision %d\n", sum.Objects, sum.Revision)
				return nil
			})
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "", "the file to write (default: standard output)")
	cmd.Flags().StringVar(&scope, "scope", "", "export only this scope's subtree (a tenant, to move it to another store)")
	storeFlags(cmd, e)
	return cmd
}

// output2 returns the writer of an output: stdout, or a temporary file
// beside path that commit renames to path and abort removes.
func output2(stdout io.Writer, path string) (w io.Writer, commit func() error, abort func(), err error) {
	if path == "" || path == "-" {
		return stdout, func() error { return nil }, func() {}, nil
	}
	f, err := os.CreateTemp(dirOf(path), ".authz-export-*")
	if err != nil {
		return nil, nil, nil, err
	}
	bw := bufio.NewWriter(f)
	commit = func() error {
		if err := bw.Flush(); err != nil {
			f.Close()
			os.Remove(f.Name())
			return err
		}
		if err := f.Sync(); err != nil {
			f.Close()
			os.Remove(f.Name())
			return err
		}
		if err := f.Close(); err != nil {
			os.Remove(f.Name())
			return err
		}
		return os.Rename(f.Name(), path)
	}
	abort = func() {
		f.Close()
		os.Remove(f.Name())
	}
	return bw, commit, abort, nil
}

func dirOf(path string) string {
	if i := strings.LastIndexByte(path, os.PathSeparator); i >= 0 {
		return path[:i+1]
	}
	return "."
}

// lineCounter passes writes on and reports the lines written so far.
type lineCounter struct {
	w      io.Writer
	lines  int64
	update func(int64)
}

func (l *lineCounter) Write(p []byte) (int, error) {
	l.lines += int64(bytes.Count(p, []byte("\n")))
	l.update(max(l.lines-1, 0)) // the header is not an object
	return l.w.Write(p)
}

func importCmd(e *env) *cobra.Command {
	batch := 0
	cmd := &cobra.Command{
		Use:   "import FILE",
		Short: "Load an export into a store (- reads standard input)",
		Long: "import loads an export (written by export) into the store, keeping ids, times and actors.\n" +
			"An export that fits one batch is loaded atomically; a larger one batch by batch, and when\n" +
			"one fails the batches before it stay committed: the error says at which line it stopped.",
		Args: args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, a []string) error {
			var r io.Reader = e.stdin
			total := int64(-1)
			if a[0] != "-" {
				f, err := os.Open(a[0])
				if err != nil {
					return err
				}
				defer f.Close()
				if n, err := countLines(f); err == nil && n >= 2 {
					total = n - 2 // the header and the trailer
				}
				if _, err := f.Seek(0, io.SeekStart); err != nil {
					return err
				}
				r = f
			}
			return e.withStore(cmd.Context(), func(_ storage.Storage, c *authz.Client) error {
				update, finish := progress(e.stderr, total, "imported objects")
				sum, err := c.Import(cmd.Context(), bufio.NewReaderSize(r, 1<<20), &authz.ImportOptions{BatchSize: batch,
					Progress: func(n int) { update(int64(n)) }})
				finish()
				if err != nil {
					return err
				}
				fmt.Fprintf(e.stdout, "imported %d objects in %d batches; the store is at revision %d\n", sum.Objects, sum.Batches, sum.Revision)
				return nil
			})
		},
	}
	cmd.Flags().IntVar(&batch, "batch-size", 0, "objects per batch (default: the library's maximum batch size)")
	storeFlags(cmd, e)
	return cmd
}

// countLines counts the lines of r.
func countLines(r io.Reader) (int64, error) {
	buf := make([]byte, 1<<20)
	var n int64
	for {
		k, err := r.Read(buf)
		n += int64(bytes.Count(buf[:k], []byte("\n")))
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}

func backupCmd(e *env) *cobra.Command {
	output := ""
	cmd := &cobra.Command{
		Use:   "backup --db FILE -o COPY",
		Short: "Copy a bolt store while it may be in use elsewhere in this process",
		Long: "backup writes a consistent copy of a bolt store to a new file (one read transaction),\n" +
			"synced and renamed into place when complete. The copy opens like the original. For a\n" +
			"PostgreSQL store, use export (or the database's own backups).",
		Args: args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if output == "" {
				return usageError{errors.New("backup: give the copy's path with -o")}
			}
			if e.db == "" {
				return usageError{errors.New("backup copies a bolt store: give --db FILE (export works on any store)")}
			}
			return e.withStore(cmd.Context(), func(s storage.Storage, _ *authz.Client) error {
				n, err := s.(*boltstore.Store).BackupFile(cmd.Context(), output)
				if err != nil {
					return err
				}
				fmt.Fprintf(e.stdout, "wrote %s (%d bytes)\n", output, n)
				return nil
			})
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "", "the path of the copy")
	storeFlags(cmd, e)
	return cmd
}

func checkCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "check",
		Short: "Check the integrity of a store",
		Long:  "check reads the whole store and reports every inconsistency it finds; the exit status is 1 if any.",
		Args:  args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return e.withStore(cmd.Context(), func(_ storage.Storage, c *authz.Client) error {
				if err := c.Check(cmd.Context()); err != nil {
					fmt.Fprintln(e.stderr, err)
					return errFailed
				}
				fmt.Fprintln(e.stdout, "ok")
				return nil
			})
		},
	}
	storeFlags(cmd, e)
	return cmd
}

// question holds the flags that name a request.
type question struct {
	subject, onBehalfOf, scope, action, resource, resourceType, context string
}

func (q *question) flags(cmd *cobra.Command, subject, resource bool) {
	if subject {
		cmd.Flags().StringVar(&q.subject, "subject", "", "the id of the subject asking (required)")
		cmd.Flags().StringVar(&q.onBehalfOf, "on-behalf-of", "", "the id of the subject it acts for")
	}
	cmd.Flags().StringVar(&q.scope, "scope", "", "the id of the scope of the request (required)")
	cmd.Flags().StringVar(&q.action, "action", "", "the action (required)")
	if resource {
		cmd.Flags().StringVar(&q.resource, "resource", "", "the id of the resource")
	}
	cmd.Flags().StringVar(&q.resourceType, "resource-type", "", "the key or id of a resource type (a type-level question, or the type of a lookup)")
	cmd.Flags().StringVar(&q.context, "context", "", `the request's context, a JSON object ({"hour": 9})`)
}

func (q *question) parseContext() (map[string]any, error) {
	if q.context == "" {
		return nil, nil
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(q.context), &m); err != nil {
		return nil, usageError{fmt.Errorf("--context: %w", err)}
	}
	return m, nil
}

func required(names map[string]string) error {
	for flag, v := range names {
		if v == "" {
			return usageError{fmt.Errorf("--%s is required", flag)}
		}
	}
	return nil
}

func evalCmd(e *env) *cobra.Command {
	var q question
	asJSON, explain := false, false
	cmd := &cobra.Command{
		Use:   "eval --subject ID --scope ID --action A (--resource ID | --resource-type T)",
		Short: "Decide one request and explain the decision",
		Long: "eval decides whether the subject may do the action on the resource in the scope, and\n" +
			"prints the decision and its explanation (--json: the decision as JSON; --explain: with the\n" +
			"trace of every step). A denial is an answer, not a failure: the exit status is 0.",
		Args: args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := required(map[string]string{"subject": q.subject, "scope": q.scope, "action": q.action}); err != nil {
				return err
			}
			if (q.resource == "") == (q.resourceType == "") {
				return usageError{errors.New("give --resource or --resource-type (one of them)")}
			}
			cx, err := q.parseContext()
			if err != nil {
				return err
			}
			in := authz.EvaluateInput{Actor: authz.SubjectRef{SubjectID: q.subject}, ScopeID: q.scope, Action: q.action, Context: cx, Explain: explain}
			if q.onBehalfOf != "" {
				in.OnBehalfOf = &authz.SubjectRef{SubjectID: q.onBehalfOf}
			}
			if q.resource != "" {
				in.Resource = &authz.ResourceRef{ResourceID: q.resource}
			} else {
				in.Resource = &authz.ResourceRef{ResourceType: q.resourceType}
			}
			return e.withStore(cmd.Context(), func(_ storage.Storage, c *authz.Client) error {
				d, err := c.Evaluate(cmd.Context(), in)
				if err != nil {
					return err
				}
				if asJSON {
					enc := json.NewEncoder(e.stdout)
					enc.SetIndent("", "  ")
					return enc.Encode(d)
				}
				verdict := "denied"
				if d.Allowed {
					verdict = "allowed"
				}
				fmt.Fprintf(e.stdout, "%s (decided by %s)\n%s\n", verdict, d.DecidedBy, d.Explanation)
				for _, step := range d.Trace {
					fmt.Fprintf(e.stdout, "  %v\n", step)
				}
				return nil
			})
		},
	}
	q.flags(cmd, true, true)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the decision as JSON")
	cmd.Flags().BoolVar(&explain, "explain", false, "include the trace of every step")
	storeFlags(cmd, e)
	return cmd
}

func lookupCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "lookup",
		Short: "List the subjects allowed on a resource, or the resources a subject is allowed on",
		Args:  args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return usageError{errors.New("lookup: give subjects or resources")}
		},
	}
	var qs, qr question
	subjects := &cobra.Command{
		Use:   "subjects --scope ID --action A (--resource ID | --resource-type T)",
		Short: "List the ids of the subjects allowed to do the action on the resource, one per line",
		Args:  args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := required(map[string]string{"scope": qs.scope, "action": qs.action}); err != nil {
				return err
			}
			if (qs.resource == "") == (qs.resourceType == "") {
				return usageError{errors.New("give --resource or --resource-type (one of them)")}
			}
			cx, err := qs.parseContext()
			if err != nil {
				return err
			}
			in := authz.LookupSubjectsInput{ScopeID: qs.scope, Action: qs.action, Context: cx,
				Resource: authz.ResourceRef{ResourceID: qs.resource, ResourceType: qs.resourceType}}
			return e.withStore(cmd.Context(), func(_ storage.Storage, c *authz.Client) error {
				p, err := c.ListAllowedSubjects(cmd.Context(), in)
				if err != nil {
					return err
				}
				for _, s := range p.Subjects {
					fmt.Fprintln(e.stdout, s.SubjectID)
				}
				return nil
			})
		},
	}
	qs.flags(subjects, false, true)
	storeFlags(subjects, e)
	resources := &cobra.Command{
		Use:   "resources --subject ID --scope ID --action A --resource-type T",
		Short: "List the ids of the resources of a type the subject may do the action on, one per line",
		Args:  args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := required(map[string]string{"subject": qr.subject, "scope": qr.scope, "action": qr.action, "resource-type": qr.resourceType}); err != nil {
				return err
			}
			cx, err := qr.parseContext()
			if err != nil {
				return err
			}
			in := authz.LookupResourcesInput{Actor: authz.SubjectRef{SubjectID: qr.subject}, ScopeID: qr.scope, Action: qr.action,
				ResourceType: qr.resourceType, Context: cx}
			if qr.onBehalfOf != "" {
				in.OnBehalfOf = &authz.SubjectRef{SubjectID: qr.onBehalfOf}
			}
			return e.withStore(cmd.Context(), func(_ storage.Storage, c *authz.Client) error {
				p, err := c.ListAllowedResources(cmd.Context(), in)
				if err != nil {
					return err
				}
				for _, r := range p.Resources {
					fmt.Fprintln(e.stdout, r.ResourceID)
				}
				return nil
			})
		},
	}
	qr.flags(resources, true, false)
	storeFlags(resources, e)
	cmd.AddCommand(subjects, resources)
	return cmd
}

func changesCmd(e *env) *cobra.Command {
	var in authz.ChangesInput
	follow := false
	cmd := &cobra.Command{
		Use:   "changes",
		Short: "Print the audit feed: who changed what, one JSON entry per line",
		Long: "changes prints the entries of the audit feed after --after, one JSON object per line:\n" +
			"the write's revision, time, actor and operation, and the object before and after. With\n" +
			"--follow it then waits for new entries (of every process, with --pg) until interrupted.",
		Args: args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return e.withStore(cmd.Context(), func(_ storage.Storage, c *authz.Client) error {
				enc := json.NewEncoder(e.stdout)
				if !follow {
					for {
						p, err := c.Changes(cmd.Context(), in)
						if err != nil {
							return err
						}
						for _, ch := range p.Changes {
							if err := enc.Encode(ch); err != nil {
								return err
							}
						}
						if !p.More || (in.Limit > 0 && len(p.Changes) >= in.Limit) {
							return nil
						}
						in.After = p.Next
					}
				}
				for ch, err := range c.WatchChanges(cmd.Context(), in) {
					if errors.Is(err, context.Canceled) {
						return nil // interrupted
					}
					if err != nil {
						return err
					}
					if err := enc.Encode(ch); err != nil {
						return err
					}
				}
				return nil
			})
		},
	}
	cmd.Flags().Uint64Var(&in.After, "after", 0, "print the entries after this seq")
	cmd.Flags().IntVar(&in.Limit, "limit", 0, "print at most this many entries (without --follow; default: all)")
	cmd.Flags().StringVar(&in.Kind, "kind", "", `only the changes of this kind ("scopes", "roles", …)`)
	cmd.Flags().StringVar(&in.ID, "id", "", "only the changes of this object")
	cmd.Flags().StringVar(&in.ScopeID, "scope", "", "only the changes of objects that hang on this scope")
	cmd.Flags().BoolVar(&in.Subtree, "subtree", false, "with --scope, also the changes below it")
	cmd.Flags().BoolVarP(&follow, "follow", "f", false, "wait for new entries until interrupted")
	storeFlags(cmd, e)
	return cmd
}

func serveCmd(e *env) *cobra.Command {
	addr, token, actor, tokensFile := ":3000", "", "", ""
	lim := httpapi.DefaultLimits()
	cmd := &cobra.Command{
		Use:   "serve --db FILE | --pg URL",
		Short: "Serve the HTTP API over a store until interrupted",
		Long: "serve answers the original Bedrock HTTP API (the routes of examples/httpserver, GET /changes\n" +
			"included) over the store, until interrupted. Every request must carry\n" +
			"\"Authorization: Bearer TOKEN\": --token (writes attributed to --actor) or one of the\n" +
			"--tokens file's \"token actor\" lines. GET / lists the routes, GET /openapi.json\n" +
			"describes them. Each request is logged to stderr. Each limit of the server is a flag.",
		Args: args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if token == "" {
				token = os.Getenv("AUTHZ_TOKEN") // not the flag's default: help would show it
			}
			if token == "" && tokensFile == "" {
				return usageError{errors.New("serve: give --token or --tokens, or set AUTHZ_TOKEN")}
			}
			tokens, err := httpapi.Tokens(token, actor, tokensFile)
			if err != nil {
				return usageError{fmt.Errorf("serve: %w", err)}
			}
			if err := lim.Check(); err != nil {
				return usageError{err}
			}
			e.listen = true // other processes' writes reach this one at once
			return e.withStore(cmd.Context(), func(s storage.Storage, _ *authz.Client) error {
				c, err := authz.New(s, &authz.Options{MaxEvaluationCost: lim.MaxEvaluationCost})
				if err != nil {
					return err
				}
				ln, err := net.Listen("tcp", addr)
				if err != nil {
					return err
				}
				logger := slog.New(slog.NewTextHandler(e.stderr, nil))
				srv := httpapi.NewServer(addr, httpapi.NewHandlerWith(c, httpapi.Config{Tokens: tokens, Limits: lim, Logger: logger}), lim)
				fmt.Fprintf(e.stderr, "serving on %s\n", ln.Addr())
				errc := make(chan error, 1)
				go func() { errc <- srv.Serve(ln) }()
				select {
				case err := <-errc:
					return err
				case <-cmd.Context().Done():
				}
				shutdown, cancel := context.WithTimeout(context.WithoutCancel(cmd.Context()), 10*time.Second)
				defer cancel()
				return srv.Shutdown(shutdown)
			})
		},
	}
	cmd.Flags().StringVar(&addr, "addr", addr, "the address to listen on")
	cmd.Flags().StringVar(&token, "token", token, "the bearer token every request must carry (default $AUTHZ_TOKEN)")
	cmd.Flags().StringVar(&actor, "actor", "", `the subject id writes with --token are attributed to (default "system")`)
	cmd.Flags().StringVar(&tokensFile, "tokens", "", `a file of "token actor" lines: several tokens, each attributing writes to its actor`)
	fs := flag.NewFlagSet("limits", flag.ContinueOnError)
	lim.Register(fs)
	cmd.Flags().AddGoFlagSet(fs)
	storeFlags(cmd, e)
	return cmd
}
