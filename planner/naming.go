package planner

import (
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"strings"
)

// Physical names are <app>-<stage>-<name>, fitted to each service's length and
// character rules. When a name must be shortened, a short hash of the full name
// is appended so two long names never collide and the result is stable.

// nameRule is one service's naming constraint.
type nameRule struct {
	max     int
	invalid *regexp.Regexp // characters to replace with '-'
	lower   bool
}

var (
	ruleLambda   = nameRule{max: 64, invalid: regexp.MustCompile(`[^A-Za-z0-9_-]`)}
	ruleRole     = nameRule{max: 64, invalid: regexp.MustCompile(`[^A-Za-z0-9_+=,.@-]`)}
	ruleSQS      = nameRule{max: 80, invalid: regexp.MustCompile(`[^A-Za-z0-9_-]`)}
	ruleSNS      = nameRule{max: 256, invalid: regexp.MustCompile(`[^A-Za-z0-9_-]`)}
	ruleBus      = nameRule{max: 256, invalid: regexp.MustCompile(`[^A-Za-z0-9._-]`)}
	ruleRule     = nameRule{max: 64, invalid: regexp.MustCompile(`[^A-Za-z0-9._-]`)}
	ruleTable    = nameRule{max: 255, invalid: regexp.MustCompile(`[^A-Za-z0-9._-]`)}
	ruleKinesis  = nameRule{max: 128, invalid: regexp.MustCompile(`[^A-Za-z0-9._-]`)}
	ruleBucket   = nameRule{max: 63, invalid: regexp.MustCompile(`[^a-z0-9-]`), lower: true}
	ruleAPI      = nameRule{max: 128, invalid: regexp.MustCompile(`[^A-Za-z0-9._-]`)}
	ruleStmt     = nameRule{max: 100, invalid: regexp.MustCompile(`[^A-Za-z0-9_-]`)}
	ruleTargetID = nameRule{max: 64, invalid: regexp.MustCompile(`[^A-Za-z0-9._-]`)}
)

// nameHash is a stable 8-hex-digit digest.
func nameHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:4])
}

// fit makes name valid under r, truncating with a stable hash when too long.
// suffix (e.g. ".fifo") is kept intact at the end.
func (r nameRule) fit(name, suffix string) string {
	full := name
	if r.lower {
		name = strings.ToLower(name)
	}
	name = r.invalid.ReplaceAllString(name, "-")
	room := r.max - len(suffix)
	if len(name) > room {
		h := nameHash(full)
		name = strings.TrimRight(name[:room-len(h)-1], "-_.") + "-" + h
	}
	return name + suffix
}

// physicalName is <app>-<stage>-<name> under rule r.
func physicalName(r nameRule, app, stage, name, suffix string) string {
	return r.fit(app+"-"+stage+"-"+name, suffix)
}

// bucketName derives a bucket's name. Buckets are global across all accounts,
// so the name carries a stable hash of the account and region.
func bucketName(app, stage, name, account, region string) string {
	return ruleBucket.fit(app+"-"+stage+"-"+name+"-"+nameHash(account + "/" + region)[:8], "")
}
