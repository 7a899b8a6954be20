module gofer/urldiff

go 1.19
