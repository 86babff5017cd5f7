package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// version is set at link time by `make build` and `make dist`
// (-ldflags "-X main.version=v1.2.3", from `git describe`). Left at "dev", the
// build info the Go toolchain stamps is used instead: the module version of a
// `go install …@v1.2.3`, or the VCS revision of a build from a checkout.
var version = "dev"

func init() { registerVerb(newCmdVersion) }

func newCmdVersion(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print evdeploy's version",
		Long: `version prints evdeploy's version (the release tag, the module version of a
go install, or the VCS revision it was built from), the platform and the Go
release it was built with. The local engine records the same version.`,
		Example: `  evdeploy version
  # evdeploy v0.3.0 (rev 87ce0aaababd) linux/amd64 go1.26.8`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			fmt.Fprintf(f.IO.Out, "evdeploy %s %s/%s %s\n", evdeployVersion(), runtime.GOOS, runtime.GOARCH, runtime.Version())
			return nil
		},
	}
}

// evdeployVersion is the version `version` prints and the engine records.
func evdeployVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		bi = nil
	}
	return versionFrom(version, bi)
}

// versionFrom picks the most precise name of this build: the link-time
// version, else the module version, with the VCS revision (and "+dirty" for
// uncommitted changes) when the toolchain stamped one. A build with neither
// is "dev".
func versionFrom(linked string, bi *debug.BuildInfo) string {
	v := linked
	var rev string
	dirty := false
	if bi != nil {
		if (v == "" || v == "dev") && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
	}
	if v == "" {
		v = "dev"
	}
	if rev == "" {
		return v
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if dirty {
		rev += "+dirty"
	}
	return fmt.Sprintf("%s (rev %s)", v, rev)
}
