module github.com/creditchain/creditchain/services/consensus-ledger

go 1.26.0

require github.com/creditchain/creditchain/pkg v0.0.0

replace github.com/creditchain/creditchain/pkg => ../../pkg

require github.com/creditchain/creditchain/proto v0.0.0

replace github.com/creditchain/creditchain/proto => ../../proto
