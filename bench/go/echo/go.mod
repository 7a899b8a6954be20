module goferbench/echo

go 1.19
