# VM kernel matrix helpers, included by the top-level Makefile (`make test-vm` is there).
#
#   make vm-kernels     install qemu and friends, download and unpack the test kernels
#   make vm-selftest    test the VM runner itself (about a minute)

.PHONY: vm-kernels vm-selftest

vm-kernels:
	$(Q)./integration-tests/vm/setup-kernels.sh

vm-selftest:
	$(Q)./integration-tests/vm/selftest.sh
