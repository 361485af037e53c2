module example.com/outside

go 1.26.0

require github.com/primetime-lab/primetime v0.0.0

require (
	github.com/HdrHistogram/hdrhistogram-go v1.4.0 // indirect
	golang.org/x/sync v0.25.0 // indirect
	golang.org/x/sys v0.50.0 // indirect
)

replace github.com/primetime-lab/primetime => ../..
