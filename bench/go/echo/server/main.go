// The reference for bench/net/run-echo-bench: examples/echo written in Go —
// the main goroutine waits in Accept; every connection gets a goroutine of
// its own that reads what arrives and writes it back, one Read and one Write
// per message, with the same buffer size as examples/echo (16 KiB).
//
//	server -addr 127.0.0.1:0
//
// Prints "listening on <address>" when ready (the real port for ":0").
// Run it with GOMAXPROCS=1 to compare with gofer at one P.
package main

import (
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"time"
)

func serve(c net.Conn, size int) {
	defer c.Close()
	buf := make([]byte, size)
	for {
		n, err := c.Read(buf)
		if err != nil {
			return // EOF, reset, …: this connection is done
		}
		if _, err := c.Write(buf[:n]); err != nil {
			return
		}
	}
}

func main() {
	addr := flag.String("addr", ":8080", "address to listen on (host:port)")
	size := flag.Int("buffer", 16*1024, "read buffer per connection, bytes")
	flag.Parse()

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("listening on %s\n", ln.Addr())
	os.Stdout.Sync()
	for {
		c, err := ln.Accept()
		if err != nil {
			// Out of fds and the like: back off, as net/http's Server does.
			var ne net.Error
			if errors.As(err, &ne) && ne.Temporary() { //nolint:staticcheck
				time.Sleep(5 * time.Millisecond)
				continue
			}
			log.Fatal(err)
		}
		go serve(c, *size)
	}
}
