// SPDX-License-Identifier: Apache-2.0
/* TLS credentials from PEM files; see tls.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "lib/tls.h"
#include "lib/util.h"

#define PEM_MAX (1u << 20)

/* Read a PEM file into *ret (NUL-terminated; the caller frees it). */
static int read_pem(const char *what, const char *path, char **ret)
{
	char *buf = NULL;
	size_t len;
	int r;

	r = read_file(path, PEM_MAX, &buf, &len);
	if (r < 0)
		return log_error_errno(r, "Cannot read the TLS %s '%s': %m", what, path);
	if (!strstr(buf, "-----BEGIN ")) {
		free(buf);
		return log_error_errno(-EINVAL, "The TLS %s '%s' holds no PEM block", what, path);
	}
	*ret = buf;
	return 0;
}

/* The certificate and its key: both or neither. */
static int read_pair(const struct tls_files *f, char **cert, char **key)
{
	int r;

	*cert = *key = NULL;
	if (!f->cert != !f->key)
		return log_error_errno(-EINVAL, "TLS needs a certificate and its key, not only %s",
				       f->cert ? "the certificate" : "the key");
	if (!f->cert)
		return 0;
	r = read_pem("certificate", f->cert, cert);
	if (r < 0)
		return r;
	r = read_pem("key", f->key, key);
	if (r < 0) {
		free(*cert);
		*cert = NULL;
	}
	return r;
}

int tls_server_credentials(const struct tls_files *f, grpc_server_credentials **ret)
{
	grpc_ssl_pem_key_cert_pair pair;
	char *ca = NULL, *cert = NULL, *key = NULL;
	int r;

	if (!f->cert)
		return log_error_errno(-EINVAL, "A TLS server needs a certificate and its key");
	r = read_pair(f, &cert, &key);
	if (r < 0)
		goto out;
	if (f->ca) {
		r = read_pem("CA", f->ca, &ca);
		if (r < 0)
			goto out;
	}
	pair.private_key = key;
	pair.cert_chain = cert;
	*ret = grpc_ssl_server_credentials_create_ex(
		ca, &pair, 1,
		ca ? GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY :
		     GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE,
		NULL);
	if (!*ret)
		r = log_error_errno(-EINVAL, "The TLS certificate '%s' or its key was refused",
				    f->cert);
out:
	free(ca);
	free(cert);
	free(key);
	return r;
}

int tls_channel_credentials(const struct tls_files *f, grpc_channel_credentials **ret)
{
	grpc_ssl_pem_key_cert_pair pair;
	char *ca = NULL, *cert = NULL, *key = NULL;
	int r;

	r = read_pair(f, &cert, &key);
	if (r < 0)
		goto out;
	if (f->ca) {
		r = read_pem("CA", f->ca, &ca);
		if (r < 0)
			goto out;
	}
	pair.private_key = key;
	pair.cert_chain = cert;
	*ret = grpc_ssl_credentials_create_ex(ca, cert ? &pair : NULL, NULL, NULL);
	if (!*ret)
		r = log_error_errno(-EINVAL, "The TLS client credentials were refused");
out:
	free(ca);
	free(cert);
	free(key);
	return r;
}
