// Package admin serves Cairn's admin API: JSON over HTTP under
// /cairn/admin/v1 (adminapi.PathPrefix) for users, groups, policies, access keys
// and server information. The request and response types, and the route list,
// are in the public package server/admin (imported here as adminapi), whose Client
// speaks this API.
//
// # Request path
//
//	server mux (/cairn/admin/…) → Handler.ServeHTTP: request id
//	  → sigv4.Verifier (the same verifier as the S3 API; anonymous → 403)
//	  → body: read whole (≤ adminapi.MaxBodySize) and verified against its hash
//	  → route (one table, routes.go; unknown path 404, wrong method 405)
//	  → iam.Authorizer: the route's admin:* action on resource "*"
//	  → handler: decode JSON strictly, call the iam.Store, return a value
//	  → writeJSON / writeError (the one place errors become status + Error JSON)
//
// Handlers return (value, error) and never write errors themselves. A request
// that fails validation changes nothing: the store validates before it writes.
// Secret keys appear in exactly one response, the one that creates them, and
// never in logs.
package admin
