// Package httpapi serves the original Bedrock HTTP API over an authz
// Client, using only the library's public API and net/http: the routes,
// their request bodies checked strictly, and the limits that keep a client
// from holding more of the server than its share. examples/httpserver and
// the authz command's serve run it; their documentation describes the
// routes, the limits and the errors.
package httpapi
