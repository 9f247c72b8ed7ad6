/* libFuzzer target: certificate signing requests, the path every CSR body takes
 * (spec.request) and the approver and signer read again. The input goes in as PEM
 * and as DER. No input may crash or leak; one that parses as DER must verify with
 * OpenSSL itself (no request whose signature does not match its key gets through),
 * and the same bytes wrapped in PEM must parse to the same subject; the signers'
 * rules run on whatever parsed. Seeds: kubelet client requests (PEM and DER), one
 * with every SAN kind, an Ed25519 one, a block of the wrong type. */
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_assert.h"
#include "triarch/csr.h"

static void rules(const tri_csr_info_t *info)
{
    static const char *const signers[] = {TRI_SIGNER_KUBELET_CLIENT, TRI_SIGNER_KUBELET_SERVING,
                                          TRI_SIGNER_APISERVER_CLIENT, "example.com/x"};
    json_t *usages = json_pack("[s, s, s]", "digital signature", "key encipherment", "client auth");
    char why[256];
    for (size_t i = 0; i < sizeof signers / sizeof signers[0]; i++) {
        int rc = tri_csr_check_signer(signers[i], info, usages, why, sizeof why);
        FUZZ_ASSERT(rc >= -1 && rc <= 1);
    }
    (void)tri_csr_is_kubelet_client(info, usages);
    json_decref(usages);
}

/* The DER as PEM, 64 columns. */
static char *as_pem(const uint8_t *der, size_t len)
{
    size_t b64len = 4 * ((len + 2) / 3);
    char *b64 = malloc(b64len + 1);
    EVP_EncodeBlock((unsigned char *)b64, der, (int)len);
    size_t cap = b64len + b64len / 64 + 128, off;
    char *pem = malloc(cap);
    off = (size_t)snprintf(pem, cap, "-----BEGIN CERTIFICATE REQUEST-----\n");
    for (size_t i = 0; i < b64len; i += 64)
        off += (size_t)snprintf(pem + off, cap - off, "%.*s\n",
                                (int)(b64len - i < 64 ? b64len - i : 64), b64 + i);
    snprintf(pem + off, cap - off, "-----END CERTIFICATE REQUEST-----\n");
    free(b64);
    return pem;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char why[256];
    tri_csr_info_t info, again;
    if (tri_csr_parse(data, size, &info, why, sizeof why) == 0)
        rules(&info);
    if (tri_csr_parse_der(data, size, &info, why, sizeof why) != 0)
        return 0;
    rules(&info);
    const unsigned char *p = data;
    X509_REQ *req = d2i_X509_REQ(NULL, &p, (long)size);
    FUZZ_ASSERT(req != NULL);
    FUZZ_ASSERT(X509_REQ_verify(req, X509_REQ_get0_pubkey(req)) == 1);
    X509_REQ_free(req);
    char *pem = as_pem(data, size);
    FUZZ_ASSERT(tri_csr_parse(pem, strlen(pem), &again, why, sizeof why) == 0);
    FUZZ_ASSERT(strcmp(info.cn, again.cn) == 0 && info.n_orgs == again.n_orgs &&
                info.n_dns == again.n_dns && info.n_ip == again.n_ip);
    free(pem);
    return 0;
}
