// Command errfn is a Lambda handler for the error suite: MODE picks how it
// fails (initpanic, raise, exit, sleep, alloc); otherwise it answers "ok".
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
)

func init() {
	if os.Getenv("MODE") == "initpanic" {
		panic("init failed as asked")
	}
}

var keep []byte

func main() {
	lambda.Start(func(ctx context.Context) (string, error) {
		fmt.Println("handling in mode", os.Getenv("MODE"))
		switch os.Getenv("MODE") {
		case "raise":
			return "", errors.New("boom")
		case "exit":
			os.Exit(3)
		case "sleep":
			time.Sleep(10 * time.Second)
		case "alloc":
			keep = make([]byte, 300<<20)
			for i := 0; i < len(keep); i += 4096 {
				keep[i] = 1 // touch every page
			}
			time.Sleep(200 * time.Millisecond)
			return fmt.Sprint(len(keep)), nil
		}
		return "ok", nil
	})
}
