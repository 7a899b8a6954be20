package runtime_test

import (
	"fmt"
	"os"
)

func readFile(path string) ([]byte, error) { return os.ReadFile(path) }

func parse2(data []byte, a, b *int64) { fmt.Sscan(string(data), a, b) }
