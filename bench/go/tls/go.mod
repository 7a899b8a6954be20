module goferbench/tls

go 1.19
