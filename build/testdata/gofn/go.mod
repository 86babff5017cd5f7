module example.com/gofn

go 1.26
