/* SPDX-License-Identifier: Apache-2.0 */
/*
 * TLS and mutual TLS for the gRPC links to the manager, from PEM files.
 *
 * Server: a certificate and its key; with a CA, every client must present a certificate
 * that CA signed (mutual TLS), otherwise no client certificate is asked for.
 * Client: the CA that signed the server's certificate (NULL: the system's roots), and a
 * certificate with its key for mutual TLS.
 */
#pragma once

#include <stdbool.h>

#include <grpc/grpc.h>
#include <grpc/grpc_security.h>

struct tls_files {
	const char *ca;
	const char *cert;
	const char *key;
};

/* Any of the files given: TLS was asked for. */
static inline bool tls_wanted(const struct tls_files *f)
{
	return f && (f->ca || f->cert || f->key);
}

/*
 * Read the files and make credentials; on success the caller owns *ret (release it with
 * grpc_server_credentials_release() / grpc_channel_credentials_release()). Errors are
 * logged with the file and the reason: -EINVAL for a certificate without its key (or the
 * reverse) or a file that holds no PEM block, -errno when a file cannot be read.
 */
int tls_server_credentials(const struct tls_files *f, grpc_server_credentials **ret);
int tls_channel_credentials(const struct tls_files *f, grpc_channel_credentials **ret);
