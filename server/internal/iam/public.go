package iam

import (
	"strings"
)

// IsPublic reports whether a bucket policy grants access to everyone: an Allow
// statement whose Principal is "*" and whose conditions do not pin the requester
// to fixed values. S3's definition, simplified: a condition pins the requester
// when it is IpAddress on aws:SourceIp with blocks no wider than /8 (IPv4) or
// /32 (IPv6), or an equality test (StringEquals, ArnEquals, …) without
// wildcards on aws:SourceVpc, aws:SourceVpce, aws:SourceArn, aws:SourceAccount,
// aws:SourceOwner, aws:PrincipalAccount, aws:PrincipalOrgID, aws:PrincipalArn,
// aws:userid or aws:username. BlockPublicPolicy refuses such policies;
// RestrictPublicBuckets ignores their grants to anonymous requests.
func IsPublic(p *Policy) bool {
	for i := range p.Statements {
		st := &p.Statements[i]
		if st.Effect != Allow || st.Principal == nil || !st.Principal.Any {
			continue
		}
		if !pinned(st.Conditions) {
			return true
		}
	}
	return false
}

func pinned(cs []Condition) bool {
	for i := range cs {
		c := &cs[i]
		if c.IfExists || c.info.negated {
			continue
		}
		switch c.info.kind {
		case kindIP:
			if c.Key != KeySourceIP {
				continue
			}
			narrow := true
			for _, n := range c.nets {
				if n.Addr().Is4() && n.Bits() < 8 || !n.Addr().Is4() && n.Bits() < 32 {
					narrow = false
				}
			}
			if narrow {
				return true
			}
		case kindString:
			if c.Op != opStringEquals && c.Op != opArnEquals && c.Op != opStringEqualsIgnoreCase {
				continue
			}
			switch c.Key {
			case "aws:sourcevpc", "aws:sourcevpce", "aws:sourcearn", "aws:sourceaccount",
				"aws:sourceowner", "aws:principalaccount", "aws:principalorgid",
				"aws:principalarn", KeyUserID, KeyUsername:
				fixed := true
				for _, v := range c.Values {
					if strings.ContainsAny(v, "*?") || strings.Contains(v, "${") {
						fixed = false
					}
				}
				if fixed {
					return true
				}
			}
		}
	}
	return false
}
