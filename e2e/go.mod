module github.com/creditchain/creditchain/e2e

go 1.26.0

require (
	github.com/creditchain/creditchain/cmd/creditchain v0.0.0
	github.com/creditchain/creditchain/pkg v0.0.0
)

replace (
	github.com/creditchain/creditchain/cmd/creditchain => ../cmd/creditchain
	github.com/creditchain/creditchain/pkg => ../pkg
	github.com/creditchain/creditchain/services/consensus-ledger => ../services/consensus-ledger
	github.com/creditchain/creditchain/services/exit-contract => ../services/exit-contract
	github.com/creditchain/creditchain/services/intake => ../services/intake
	github.com/creditchain/creditchain/services/replicator => ../services/replicator
)

replace github.com/creditchain/creditchain/proto => ../proto

require github.com/creditchain/creditchain/services/signer v0.0.0

require (
	github.com/chromedp/cdproto v0.159.0 // indirect
	github.com/chromedp/chromedp v0.23.0
	github.com/go-json-experiment/json v0.0.0-20260213210345-44df1a37e875 // indirect
)

replace github.com/creditchain/creditchain/services/signer => ../services/signer
