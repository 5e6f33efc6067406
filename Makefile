# The two entry points operator users expect; everything else is in scripts/.
.PHONY: run test lint bench setup

run:
	bash scripts/run.sh $(ARGS)

test:
	bash scripts/test.sh

lint:
	bash scripts/setup.sh && npm run --silent lint

bench:
	bash scripts/setup.sh && npm run --silent bench

setup:
	bash scripts/setup.sh
