// godiff prints what Go's standard library makes of each request on its
// input, for the C++ differential tests: net/url (src/url/tests/
// url_go_diff_test.cpp) and net/http's cookies (src/http/tests/
// cookie_go_diff_test.cpp). Every string goes in and out hex-encoded, so
// control characters and invalid UTF-8 pass unchanged.
//
// Input, one request per line: an operation and its hex arguments,
// separated by spaces:
//
//	parse URL | parse_request_uri URL | resolve BASE REF | join_path BASE ELEM...
//	query_escape S | query_unescape S | path_escape S | path_unescape S | parse_query S
//	cookies HEADER | set_cookie HEADER
//
// Output: one JSON object per request, in order, with hex-encoded strings.
package main

import (
	"bufio"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/url"
	"os"
	"strings"
)

func h(s string) string { return hex.EncodeToString([]byte(s)) }

func errText(err error) string {
	if err == nil {
		return ""
	}
	return h(err.Error())
}

func describe(u *url.URL, err error) map[string]any {
	out := map[string]any{"err": errText(err)}
	if err != nil {
		return out
	}
	password, hasPassword := u.User.Password()
	out["scheme"] = h(u.Scheme)
	out["opaque"] = h(u.Opaque)
	out["has_user"] = u.User != nil
	out["username"] = h(u.User.Username())
	out["password"] = h(password)
	out["has_password"] = hasPassword
	out["host"] = h(u.Host)
	out["path"] = h(u.Path)
	out["raw_path"] = h(u.RawPath)
	out["omit_host"] = u.OmitHost
	out["force_query"] = u.ForceQuery
	out["raw_query"] = h(u.RawQuery)
	out["fragment"] = h(u.Fragment)
	out["raw_fragment"] = h(u.RawFragment)
	out["string"] = h(u.String())
	out["redacted"] = h(u.Redacted())
	out["escaped_path"] = h(u.EscapedPath())
	out["hostname"] = h(u.Hostname())
	out["port"] = h(u.Port())
	out["request_uri"] = h(u.RequestURI())
	out["query"] = h(u.Query().Encode())
	return out
}

// A cookie as the C++ side compares it; Expires in Unix seconds, or null.
func describeCookie(c *http.Cookie) map[string]any {
	var expires any
	if !c.Expires.IsZero() {
		expires = c.Expires.Unix()
	}
	unparsed := make([]string, len(c.Unparsed))
	for i, u := range c.Unparsed {
		unparsed[i] = h(u)
	}
	return map[string]any{
		"name": h(c.Name), "value": h(c.Value), "path": h(c.Path), "domain": h(c.Domain),
		"expires": expires, "raw_expires": h(c.RawExpires), "max_age": c.MaxAge,
		"secure": c.Secure, "http_only": c.HttpOnly, "same_site": int(c.SameSite),
		"unparsed": unparsed, "string": h(c.String()),
	}
}

func unhex(s string) string {
	b, err := hex.DecodeString(s)
	if err != nil {
		fmt.Fprintln(os.Stderr, "godiff: bad hex argument:", s)
		os.Exit(2)
	}
	return string(b)
}

func main() {
	log.SetOutput(io.Discard) // Cookie.String logs what it drops; the caller compares the result
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<24)
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	enc := json.NewEncoder(out)
	for in.Scan() {
		fields := strings.Split(in.Text(), " ")
		args := make([]string, len(fields)-1)
		for i, f := range fields[1:] {
			args[i] = unhex(f)
		}
		var r map[string]any
		switch fields[0] {
		case "parse":
			r = describe(url.Parse(args[0]))
		case "parse_request_uri":
			r = describe(url.ParseRequestURI(args[0]))
		case "resolve":
			base, err := url.Parse(args[0])
			if err != nil {
				r = describe(nil, err)
				break
			}
			r = describe(base.Parse(args[1]))
		case "join_path":
			base, err := url.Parse(args[0])
			if err != nil {
				r = describe(nil, err)
				break
			}
			r = describe(base.JoinPath(args[1:]...), nil)
		case "query_escape":
			r = map[string]any{"out": h(url.QueryEscape(args[0])), "err": ""}
		case "path_escape":
			r = map[string]any{"out": h(url.PathEscape(args[0])), "err": ""}
		case "query_unescape":
			s, err := url.QueryUnescape(args[0])
			r = map[string]any{"out": h(s), "err": errText(err)}
		case "path_unescape":
			s, err := url.PathUnescape(args[0])
			r = map[string]any{"out": h(s), "err": errText(err)}
		case "parse_query":
			v, err := url.ParseQuery(args[0])
			r = map[string]any{"out": h(v.Encode()), "err": errText(err)}
		case "cookies":
			req := http.Request{Header: http.Header{"Cookie": {args[0]}}}
			list := []map[string]any{}
			for _, c := range req.Cookies() {
				list = append(list, describeCookie(c))
			}
			r = map[string]any{"cookies": list}
		case "set_cookie":
			resp := http.Response{Header: http.Header{"Set-Cookie": {args[0]}}}
			list := []map[string]any{}
			for _, c := range resp.Cookies() {
				list = append(list, describeCookie(c))
			}
			r = map[string]any{"cookies": list}
		default:
			fmt.Fprintln(os.Stderr, "godiff: unknown operation:", fields[0])
			os.Exit(2)
		}
		if err := enc.Encode(r); err != nil {
			fmt.Fprintln(os.Stderr, "godiff:", err)
			os.Exit(1)
		}
	}
	if err := in.Err(); err != nil {
		fmt.Fprintln(os.Stderr, "godiff:", err)
		os.Exit(1)
	}
}
