module gofer/godiff

go 1.19
