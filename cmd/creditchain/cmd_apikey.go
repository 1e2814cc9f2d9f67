package main

import "github.com/creditchain/creditchain/cmd/creditchain/apikeycmd"

func init() { register("apikey", apikeycmd.Summary, apikeycmd.Run) }
