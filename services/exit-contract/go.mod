module github.com/creditchain/creditchain/services/exit-contract

go 1.26.0

require github.com/creditchain/creditchain/pkg v0.0.0

replace github.com/creditchain/creditchain/pkg => ../../pkg
