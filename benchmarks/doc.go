// Package benchmarks compares scopegate/authz with Casbin on the same RBAC
// with domains model and the same requests. It is a module of its own, so
// that the library gains no dependency on Casbin: run it from this
// directory.
//
//	go test -run '^$' -bench Compare -sizes medium,large -benchtime 2s | tee out.txt
//	go run ./cmd/ratios < out.txt
package benchmarks
