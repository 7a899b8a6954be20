// urldiff prints what Go's net/url makes of each request on its input, for
// the C++ differential test (url_go_diff_test.cpp). Every string goes in and
// out hex-encoded, so control characters and invalid UTF-8 pass unchanged.
//
// Input, one request per line: an operation and its hex arguments,
// separated by spaces:
//
//	parse URL | parse_request_uri URL | resolve BASE REF | join_path BASE ELEM...
//	query_escape S | query_unescape S | path_escape S | path_unescape S | parse_query S
//
// Output: one JSON object per request, in order, with hex-encoded strings.
package main

import (
	"bufio"
	"encoding/hex"
	"encoding/json"
	"fmt"
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

func unhex(s string) string {
	b, err := hex.DecodeString(s)
	if err != nil {
		fmt.Fprintln(os.Stderr, "urldiff: bad hex argument:", s)
		os.Exit(2)
	}
	return string(b)
}

func main() {
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
		default:
			fmt.Fprintln(os.Stderr, "urldiff: unknown operation:", fields[0])
			os.Exit(2)
		}
		if err := enc.Encode(r); err != nil {
			fmt.Fprintln(os.Stderr, "urldiff:", err)
			os.Exit(1)
		}
	}
	if err := in.Err(); err != nil {
		fmt.Fprintln(os.Stderr, "urldiff:", err)
		os.Exit(1)
	}
}
