module goferbench/http

go 1.19
