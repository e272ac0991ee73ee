package main

// version is the release of the manager. A release build stamps it with
// -ldflags "-X main.version=X.Y.Z" (hack/release.sh); any other build
// reports "dev". The manager logs it at start.
var version = "dev"
