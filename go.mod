module github.com/scopegate/authz

go 1.25

require (
	github.com/diegoholiveira/jsonlogic/v3 v3.9.1 // indirect
	github.com/google/go-cmp v0.7.0 // indirect
	github.com/google/uuid v1.6.0 // indirect
	go.etcd.io/bbolt v1.5.0 // indirect
	golang.org/x/sys v0.45.0 // indirect
)
