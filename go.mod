module github.com/scopegate/authz

go 1.25.0

require (
	github.com/diegoholiveira/jsonlogic/v3 v3.9.1
	github.com/google/go-cmp v0.7.0
	github.com/google/uuid v1.6.0
	go.etcd.io/bbolt v1.5.0
)

require golang.org/x/sys v0.45.0 // indirect
