/* certificates.k8s.io: PKCS#10 certificate signing requests and the cluster signer.
 *
 * The CertificateSigningRequest kind (server/api/res_certificates.c) stores a PEM
 * "CERTIFICATE REQUEST" in spec.request. Everything here is pure OpenSSL work on
 * bytes, shared by validation (the request parses and its signature verifies), the
 * csrapproving controller (what the request asks for) and the csrsigning
 * controller (the issued certificate):
 *
 *   tri_csr_parse      PEM (or DER) -> subject, SAN counts, signature checked
 *   tri_csr_check_signer  Kubernetes' per-signer rules (kubelet client, kubelet
 *                      serving, kube-apiserver client)
 *   tri_signer_*       the cluster CA: load it, sign a request with the usages and
 *                      lifetime asked for (capped by cluster-signing-duration and
 *                      by the CA's own notAfter)
 *
 * Nothing here keeps state beyond a tri_signer_t; the CA key lives only in that
 * handle (read from the replica's config dir), never in the store. */
#ifndef TRIARCH_CSR_H
#define TRIARCH_CSR_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "triarch/util.h"

/* The signers Kubernetes defines and triarch's csrsigning controller serves. */
#define TRI_SIGNER_KUBELET_CLIENT "kubernetes.io/kube-apiserver-client-kubelet"
#define TRI_SIGNER_APISERVER_CLIENT "kubernetes.io/kube-apiserver-client"
#define TRI_SIGNER_KUBELET_SERVING "kubernetes.io/kubelet-serving"
/* Kubernetes' minimum for spec.expirationSeconds (10 minutes). */
#define TRI_CSR_MIN_EXPIRATION_S 600
/* kube-controller-manager's --cluster-signing-duration default: one year. */
#define TRI_CSR_DEFAULT_DURATION_S (365LL * 24 * 3600)
/* Requests bigger than this are refused before OpenSSL sees them. */
#define TRI_CSR_MAX_BYTES (64 * 1024)

#define TRI_CSR_MAX_ORGS 8

/* What a request asks for. */
typedef struct tri_csr_info {
    char cn[256];
    char orgs[TRI_CSR_MAX_ORGS][128];
    size_t n_orgs;
    size_t n_other_rdns;                /* subject entries other than CN and O */
    size_t n_cn;                        /* CN entries (a subject may carry several) */
    size_t n_dns, n_ip, n_email, n_uri; /* subjectAltName entries by kind */
    char key_type[16];                  /* "RSA", "EC", "ED25519", ... */
} tri_csr_info_t;

/* Parses a PEM "CERTIFICATE REQUEST" block (text before and after it is ignored,
 * as Go's pem.Decode does; other block types are refused) and verifies the
 * request's self-signature. 0 with *info filled (info may be NULL), else TRI_EINVAL
 * with why set. */
int tri_csr_parse(const void *pem, size_t len, tri_csr_info_t *info, char *why, size_t wl);
/* The same for DER bytes. */
int tri_csr_parse_der(const void *der, size_t len, tri_csr_info_t *info, char *why, size_t wl);

/* spec.request of a CSR object (base64 of the PEM, as JSON carries []byte) decoded
 * into pem. 0, or TRI_EINVAL with why set. */
int tri_csr_request_pem(const json_t *csr, tri_buf_t *pem, char *why, size_t wl);

/* A key usage name Kubernetes accepts in spec.usages ("digital signature", "client
 * auth", ...). */
bool tri_csr_usage_valid(const char *usage);
/* The valid names, NULL-terminated (for error messages). */
extern const char *const tri_csr_usages[];

/* Kubernetes' rules for its own signers, on the parsed request and spec.usages (a
 * JSON array of strings):
 *   1 the signer is one of the three above and the request fits it;
 *   0 the signer is not one of them (another signer's business);
 *  -1 it is one of them and the request does not fit: why says how (the signing
 *     controller records it as a Failed condition, reason SignerValidationFailure). */
int tri_csr_check_signer(const char *signer, const tri_csr_info_t *info, const json_t *usages,
                         char *why, size_t wl);

/* A kubelet client request exactly as kubelet makes one: subject CN=system:node:NAME
 * (NAME not empty), O=system:nodes and nothing else; no subjectAltNames; usages
 * {digital signature, key encipherment, client auth}, or without key encipherment
 * (Kubernetes' kubeletClientRequiredUsages and ...NoRSA). */
bool tri_csr_is_kubelet_client(const tri_csr_info_t *info, const json_t *usages);
/* Whether the request's status.conditions has one of type (Approved, Denied, Failed). */
bool tri_csr_has_condition(const json_t *csr, const char *type);

/* ---------- the signer ---------- */

typedef struct tri_signer tri_signer_t;

/* Loads the CA certificate and key (PEM files); the key must match. 0, or TRI_EINVAL
 * / TRI_EIO with err set. */
int tri_signer_load(const char *cert_file, const char *key_file, tri_signer_t **out, char *err,
                    size_t errlen);
void tri_signer_free(tri_signer_t *s); /* NULL is fine */

/* Issues a certificate for the PEM request: its subject and subjectAltNames, its
 * public key, key usage and extended key usage from usages (other requested
 * extensions are dropped, as Kubernetes' signer does), basicConstraints CA:FALSE,
 * a random 159-bit serial, notBefore backdated 5 minutes for clock skew and
 * notAfter now + lifetime_s (capped at the CA's own notAfter). Appends the PEM
 * certificate to out. 0, or TRI_EINVAL with why set. */
int tri_signer_sign(const tri_signer_t *s, const void *csr_pem, size_t len, const json_t *usages,
                    int64_t lifetime_s, tri_buf_t *out, char *why, size_t wl);

/* The lifetime to issue for: the requested expirationSeconds (<= 0: none) capped by
 * max_s, and never under TRI_CSR_MIN_EXPIRATION_S. */
int64_t tri_signer_lifetime(int64_t expiration_seconds, int64_t max_s);

#endif
