module github.com/scopegate/authz/benchmarks

go 1.25.0

require (
	github.com/casbin/casbin/v2 v2.135.0
	github.com/scopegate/authz v0.0.0
)

require (
	github.com/bmatcuk/doublestar/v4 v4.6.1 // indirect
	github.com/casbin/govaluate v1.3.0 // indirect
	github.com/google/uuid v1.6.0 // indirect
	go.etcd.io/bbolt v1.5.0 // indirect
	golang.org/x/sys v0.46.0 // indirect
)

replace github.com/scopegate/authz => ../
