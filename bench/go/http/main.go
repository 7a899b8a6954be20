// The Go reference for bench/http: net/http serving the same 13 bytes as
// `gofer serve`'s /hello, over TLS with -tls-cert and -tls-key.
package main

import (
	"flag"
	"log"
	"net/http"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8081", "listen address")
	cert := flag.String("tls-cert", "", "serve HTTPS with this certificate (PEM)")
	key := flag.String("tls-key", "", "the key of -tls-cert (PEM)")
	flag.Parse()
	http.HandleFunc("/hello", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Write([]byte("Hello, World!"))
	})
	if *cert != "" {
		log.Fatal(http.ListenAndServeTLS(*addr, *cert, *key, nil))
	}
	log.Fatal(http.ListenAndServe(*addr, nil))
}
