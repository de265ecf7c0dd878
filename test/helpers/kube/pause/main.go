// The pod sandbox image's one program for the node scenario (test/helpers/kube/node-cluster.ts),
// built with Debian's Go: no pause image can be pulled here. What k8s.gcr.io/pause does.
// pause: the pod sandbox's process. Sleeps until SIGINT or SIGTERM, then exits 0; reaps
// children (it may be PID 1 of a shared PID namespace).
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGCHLD)
	for s := range sigs {
		if s == syscall.SIGCHLD {
			for {
				pid, err := syscall.Wait4(-1, nil, syscall.WNOHANG, nil)
				if pid <= 0 || err != nil {
					break
				}
			}
			continue
		}
		os.Exit(0)
	}
}
