module goferbench/runtime

go 1.19
