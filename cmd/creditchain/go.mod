module github.com/creditchain/creditchain/cmd/creditchain

go 1.26.0

require github.com/creditchain/creditchain/pkg v0.0.0

replace github.com/creditchain/creditchain/pkg => ../../pkg

require (
	github.com/creditchain/creditchain/services/consensus-ledger v0.0.0
	github.com/creditchain/creditchain/services/exit-contract v0.0.0
	github.com/creditchain/creditchain/services/intake v0.0.0
	github.com/creditchain/creditchain/services/query v0.0.0
	github.com/creditchain/creditchain/services/replicator v0.0.0
)

replace (
	github.com/creditchain/creditchain/services/consensus-ledger => ../../services/consensus-ledger
	github.com/creditchain/creditchain/services/exit-contract => ../../services/exit-contract
	github.com/creditchain/creditchain/services/intake => ../../services/intake
	github.com/creditchain/creditchain/services/query => ../../services/query
	github.com/creditchain/creditchain/services/replicator => ../../services/replicator
)

replace github.com/creditchain/creditchain/proto => ../../proto

require github.com/creditchain/creditchain/services/signer v0.0.0

require (
	github.com/richardlehane/mscfb v1.0.9 // indirect
	github.com/richardlehane/msoleps v1.0.6 // indirect
	github.com/tiendc/go-deepcopy v1.7.2 // indirect
	github.com/xuri/efp v0.0.3-0.20260924042702-217b81952dec // indirect
	github.com/xuri/excelize/v2 v2.11.1
	github.com/xuri/nfp v0.0.2-0.20250530014748-2ddeb826f9a9 // indirect
	golang.org/x/crypto v0.58.0 // indirect
	golang.org/x/net v0.62.0 // indirect
	golang.org/x/text v0.43.0
)

replace github.com/creditchain/creditchain/services/signer => ../../services/signer
