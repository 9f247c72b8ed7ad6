/* Unit tests for the protobuf body decoder (server/api/protobuf.c and its schema
 * tables): real kubectl 1.32 bodies from shared/reference; real kubectl 1.32/1.33
 * bodies captured on loopback (also in tests/fuzz/corpus/protobuf/kubectl-*), each
 * expected to decode to exactly the JSON the same kubectl prints for the same object
 * with --dry-run=client -o json (nulls left out, as the decoder never emits them);
 * hand-built envelopes from a tiny encoder (ConfigMap, Namespace, Secret,
 * ServiceAccount, the apps/v1 workloads, CronJob, HPA v2), omitempty rules, inline
 * fields, Quantity, packed repeated scalars, unknown fields skipped, and malformed
 * input rejected. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "triarch/codec.h"

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: expected %s (err: %s)\n", __FILE__, __LINE__, #cond, err);     \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

static char err[512];

/* ---------- a tiny encoder ---------- */

typedef struct enc {
    uint8_t b[4096];
    size_t n;
} enc_t;

static void put_varint(enc_t *e, uint64_t v)
{
    do {
        uint8_t byte = v & 0x7f;
        v >>= 7;
        e->b[e->n++] = byte | (v ? 0x80 : 0);
    } while (v);
}

static void put_bytes(enc_t *e, unsigned field, const void *p, size_t n)
{
    put_varint(e, (uint64_t)field << 3 | 2);
    put_varint(e, n);
    memcpy(e->b + e->n, p, n);
    e->n += n;
}

static void put_str(enc_t *e, unsigned field, const char *s)
{
    put_bytes(e, field, s, strlen(s));
}

static void put_msg(enc_t *e, unsigned field, const enc_t *m)
{
    put_bytes(e, field, m->b, m->n);
}

static void put_uint(enc_t *e, unsigned field, uint64_t v)
{
    put_varint(e, (uint64_t)field << 3);
    put_varint(e, v);
}

static void put_map(enc_t *e, unsigned field, const char *k, const void *v, size_t vn)
{
    enc_t entry = {0};
    put_str(&entry, 1, k);
    put_bytes(&entry, 2, v, vn);
    put_msg(e, field, &entry);
}

/* "k8s\0" + Unknown{typeMeta, raw, "", ""} */
static void envelope(enc_t *out, const char *api_version, const char *kind, const enc_t *raw)
{
    enc_t tm = {0};
    put_str(&tm, 1, api_version);
    put_str(&tm, 2, kind);
    memcpy(out->b, "k8s\0", 4);
    out->n = 4;
    put_msg(out, 1, &tm);
    put_msg(out, 2, raw);
    put_str(out, 3, "");
    put_str(out, 4, "");
}

static json_t *decode(const enc_t *e)
{
    err[0] = '\0';
    return tri_protobuf_decode(e->b, e->n, err, sizeof err);
}

#define HEX_BODY_MAX 4096

static json_t *decode_hex(const char *hex)
{
    static uint8_t buf[HEX_BODY_MAX];
    size_t n = strlen(hex) / 2;
    if (n > sizeof buf) {
        fprintf(stderr, "test body of %zu bytes is over HEX_BODY_MAX\n", n);
        exit(1);
    }
    for (size_t i = 0; i < n; i++)
        sscanf(hex + 2 * i, "%2hhx", &buf[i]);
    err[0] = '\0';
    return tri_protobuf_decode(buf, n, err, sizeof err);
}

static void expect_json(json_t *got, const char *want_text)
{
    json_t *want = json_loads(want_text, 0, NULL);
    if (!got || !want || !json_equal(got, want)) {
        char *g = got ? json_dumps(got, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
        fprintf(stderr, "want %s\ngot  %s\nerr  %s\n", want_text, g ? g : "NULL", err);
        exit(1);
    }
    json_decref(got);
    json_decref(want);
}

/* ---------- real bodies (kubectl 1.32, shared/reference/kubectl-1.32-requests.jsonl) ---------- */

static void test_real_bodies(void)
{
    /* kubectl create configmap cm1 --from-literal=a=b --from-literal=c=d */
    expect_json(decode_hex("6b3873000a0f0a0276311209436f6e6669674d617012250a130a03636d3112001a0022"
                           "002a0032003800420012060a016112016212060a01631201641a002200"),
                "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"cm1\"},"
                "\"data\":{\"a\":\"b\",\"c\":\"d\"}}");
    /* kubectl create secret generic s1 --from-literal=pw=hunter2 */
    expect_json(decode_hex("6b3873000a0c0a027631120653656372657412250a120a02733112001a0022002a0032"
                           "0038004200120d0a027077120768756e746572321a001a002200"),
                "{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"metadata\":{\"name\":\"s1\"},"
                "\"data\":{\"pw\":\"aHVudGVyMg==\"}}");
    /* kubectl create namespace ns1: spec and status present (empty) as Go keeps them */
    expect_json(decode_hex("6b3873000a0f0a02763112094e616d657370616365121b0a130a036e733112001a0022"
                           "002a0032003800420012001a020a001a002200"),
                "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"ns1\"},"
                "\"spec\":{},\"status\":{}}");
    /* kubectl create serviceaccount sa1 */
    expect_json(decode_hex("6b3873000a140a027631120e536572766963654163636f756e7412150a130a03736131"
                           "12001a0022002a003200380042001a002200"),
                "{\"apiVersion\":\"v1\",\"kind\":\"ServiceAccount\",\"metadata\":{\"name\":"
                "\"sa1\"}}");
    /* kubectl create service clusterip svc1 --tcp=80:80 */
    expect_json(decode_hex("6b3873000a0d0a02763112075365727669636512690a210a047376633112001a002200"
                           "2a003200380042005a0b0a036170701204737663311240"
                           "0a180a0538302d3830120354435018502206080010501a002800120b0a036170701204"
                           "737663311a002209436c757374657249503a00420052005a00600068001a020a001a00"
                           "2200"),
                "{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"svc1\","
                "\"labels\":{\"app\":\"svc1\"}},\"spec\":{\"ports\":[{\"name\":\"80-80\","
                "\"protocol\":\"TCP\",\"port\":80,\"targetPort\":80}],\"selector\":{\"app\":"
                "\"svc1\"},\"type\":\"ClusterIP\"},\"status\":"
                "{\"loadBalancer\":{}}}");
    /* kubectl create role r1 --verb=get --resource=pods */
    expect_json(decode_hex("6b3873000a240a1c726261632e617574686f72697a6174696f6e2e6b38732e696f2f76"
                           "311204526f6c6512230a120a02723112001a0022002a00320038004200120d0a036765"
                           "7412001a04706f64731a002200"),
                "{\"apiVersion\":\"rbac.authorization.k8s.io/v1\",\"kind\":\"Role\",\"metadata\":"
                "{\"name\":\"r1\"},\"rules\":[{\"verbs\":[\"get\"],\"apiGroups\":[\"\"],"
                "\"resources\":[\"pods\"]}]}");
    /* kubectl create token sa1: status.token has no omitempty */
    expect_json(
        decode_hex("6b3873000a280a1861757468656e7469636174696f6e2e6b38732e696f2f7631120c546f"
                   "6b656e52657175657374121a0a100a0012001a0022002a0032003800420012001a040a00"
                   "12001a002200"),
        "{\"apiVersion\":\"authentication.k8s.io/v1\",\"kind\":\"TokenRequest\","
        "\"metadata\":{},\"spec\":{},\"status\":{\"token\":\"\"}}");
}

/* ---------- captured from kubectl 1.32 and 1.33 on loopback ---------- */

typedef struct captured {
    const char *name;
    const char *hex;
    const char *json; /* kubectl --dry-run=client -o json of the same command, nulls dropped */
} captured_t;

static const captured_t captured[] = {
    /* kubectl 1.32 create deployment d1 --image=nginx --replicas=3 --port=80 (214 bytes) */
    {"deployment",
     "6b3873000a150a07617070732f7631120a4465706c6f796d656e7412b4010a1d0a02643112001a0022002a003200"
     "380042005a090a03617070120264311284010803120b0a090a03617070120264311a6b0a1b0a0012001a0022002a"
     "003200380042005a090a0361707012026431124c122e0a056e67696e7812056e67696e782a00320a0a0010001850"
     "22002a0042006a007200800100880100900100a201001a00320042004a0052005800600068008201008a01009a01"
     "00c2010022020a00280038001a0c0800100018002000280038001a002200",
     "{\"kind\":\"Deployment\",\"apiVersion\":\"apps/"
     "v1\",\"metadata\":{\"name\":\"d1\",\"labels\":{\"app\":\"d1\"}}"
     ",\"spec\":{\"replicas\":3,\"selector\":{\"matchLabels\":{\"app\":\"d1\"}},\"template\":{"
     "\"metadata\":{\"lab"
     "els\":{\"app\":\"d1\"}},\"spec\":{\"containers\":[{\"name\":\"nginx\",\"image\":\"nginx\","
     "\"ports\":[{\"contai"
     "nerPort\":80}],\"resources\":{}}]}},\"strategy\":{}},\"status\":{}}"},
    /* kubectl 1.32 create deployment d3 --image=busybox -- sleep 3600 (219 bytes) */
    {"deployment-cmd",
     "6b3873000a150a07617070732f7631120a4465706c6f796d656e7412b9010a1d0a02643312001a0022002a003200"
     "380042005a090a03617070120264331289010801120b0a090a03617070120264331a700a1b0a0012001a0022002a"
     "003200380042005a090a0361707012026433125112330a0762757379626f78120762757379626f781a05736c6565"
     "701a04333630302a0042006a007200800100880100900100a201001a00320042004a005200580060006800820100"
     "8a01009a0100c2010022020a00280038001a0c0800100018002000280038001a002200",
     "{\"kind\":\"Deployment\",\"apiVersion\":\"apps/"
     "v1\",\"metadata\":{\"name\":\"d3\",\"labels\":{\"app\":\"d3\"}}"
     ",\"spec\":{\"replicas\":1,\"selector\":{\"matchLabels\":{\"app\":\"d3\"}},\"template\":{"
     "\"metadata\":{\"lab"
     "els\":{\"app\":\"d3\"}},\"spec\":{\"containers\":[{\"name\":\"busybox\",\"image\":"
     "\"busybox\",\"command\":[\"s"
     "leep\",\"3600\"],\"resources\":{}}]}},\"strategy\":{}},\"status\":{}}"},
    /* kubectl 1.32 create job j1 --image=busybox -- echo hi there (167 bytes) */
    {"job",
     "6b3873000a0f0a0862617463682f763112034a6f62128b010a120a026a3112001a0022002a00320038004200126b"
     "32690a100a0012001a0022002a00320038004200125512320a026a31120762757379626f781a046563686f1a0268"
     "691a0574686572652a0042006a007200800100880100900100a201001a054e65766572320042004a005200580060"
     "0068008201008a01009a0100c201001a082000280030003a001a002200",
     "{\"kind\":\"Job\",\"apiVersion\":\"batch/"
     "v1\",\"metadata\":{\"name\":\"j1\"},\"spec\":{\"template\":{\"metada"
     "ta\":{},\"spec\":{\"containers\":[{\"name\":\"j1\",\"image\":\"busybox\",\"command\":["
     "\"echo\",\"hi\",\"there\""
     "],\"resources\":{}}],\"restartPolicy\":\"Never\"}}},\"status\":{}}"},
    /* kubectl 1.32 create job jr --from=cronjob/rich (2311 bytes) */
    {"job-rich",
     "6b3873000a0f0a0862617463682f763112034a6f6212eb110a6e0a026a7212001a0022002a003200380042005a06"
     "0a016c120176622b0a2163726f6e6a6f622e6b756265726e657465732e696f2f696e7374616e746961746512066d"
     "616e75616c6a250a0743726f6e4a6f621a047269636822087569642d726963682a0862617463682f7631300112ee"
     "1008021004186422080a060a016a120131280132fc0f0a200a0012001a0022002a003200380042005a060a016a12"
     "013162060a016112016212d70f0a120a0464617461120a52080a047076633110010a240a03636667121d9a011a0a"
     "040a02636d120d0a01611205612e74787418a40318a40320010a0f0a03736563120832060a01731880020a190a03"
     "746d70121212100a064d656d6f727912060a0436344d690a0d0a05656d707479120412020a000a1f0a04686f7374"
     "12170a150a082f7661722f6c6f6712094469726563746f72790a110a05686f73743212080a060a022f7812000a82"
     "010a0470726f6a127ad201770a11220f0a0361706910901c1a05746f6b656e0a281a260a120a106b7562652d726f"
     "6f742d63612e63727412100a0663612e637274120663612e6372740a2912270a250a096e616d6573706163651218"
     "0a02763112126d657461646174612e6e616d6573706163650a0a0a080a040a027332200010a4030a4c0a04646170"
     "6912448201410a1d0a066c6162656c7312130a00120f6d657461646174612e6c6162656c730a200a036370751a19"
     "0a03617070120c72657175657374732e6370751a040a02316d0a4f0a036570681248ea01450a430a180a0012001a"
     "0022002a003200380042005a060a017412013112270a0d5265616457726974654f6e6365121212100a0773746f72"
     "61676512050a033147691a002a000a1f0a036e667312183a160a0831302e302e302e3112082f6578706f72747318"
     "000a280a036373691221e2011e0a0d642e6578616d706c652e636f6d100122060a016b1201762a030a016e12b005"
     "0a03617070120a6e67696e783a312e32351a072f62696e2f73681a022d6322076563686f20686922002a022f7732"
     "120a0468747470100018903f22035443502a0032170a0010e929183522035544502a093132372e302e302e313a06"
     "0a01411201313a090a05454d50545912003a1e0a03504f4412001a150a130a027631120d6d657461646174612e6e"
     "616d653a150a02505712001a0d220b0a030a01731202707718013a130a0343464712001a0a1a080a030a01631201"
     "6b3a220a034c494d12001a1912170a03617070120a6c696d6974732e6370751a040a02316d42760a0d0a03637075"
     "12060a043530306d0a110a066d656d6f727912070a053132384d690a150a0e6e76696469612e636f6d2f67707512"
     "030a0131120d0a0363707512060a043235306d121a0a11657068656d6572616c2d73746f7261676512050a033147"
     "6912100a066d656d6f727912060a0436344d694a140a046461746110011a052f6461746122017832004a170a0363"
     "666710001a042f63666722002a044e6f6e65320052440a3612340a082f6865616c74687a1207080010903f1a001a"
     "0168220548545450532a080a03582d411201312a0b0a07582d456d707479120010031802200a2801300538005a1c"
     "0a101a0e0a0a080110001a046874747012001000180020072800300062100a080a060a0474727565120422020805"
     "6a142f6465762f7465726d696e6174696f6e2d6c6f67720c49664e6f7450726573656e747a310a100a094e45545f"
     "41444d494e1203414c4c100020e80728013000380040005a100a0e52756e74696d6544656661756c748001018801"
     "009001019a010e0a02505f12080a040a02636d10009a010b0a001a070a050a03736563a2011546616c6c6261636b"
     "546f4c6f67734f6e4572726f72b2011c0a100a0e0a036361740a072f746d702f6f6b1000180020002800301e1223"
     "0a0473696465120762757379626f782a0042006a007200800100880100900100a201001a094f6e4661696c757265"
     "200028d8043217436c7573746572466972737457697468486f73744e65743a0f0a086469736b7479706512037373"
     "643a190a106b756265726e657465732e696f2f6f7312056c696e757842037361314a0373613152056e6f64653158"
     "0160006800725310e8071801200120022080bcc1960b28d00f3a1a0a126e65742e636f72652e736f6d6178636f6e"
     "6e1204313032344a0e4f6e526f6f744d69736d6174636852130a094c6f63616c686f73741206702e6a736f6e7a09"
     "0a077265676372656482010268318a01037375629201c2010a470a300a2e0a100a047a6f6e651202496e1a01611a"
     "0162121a0a0d6d657461646174612e6e616d6512054e6f74496e1a026e311213080a120f0a0d0a03737364120645"
     "7869737473122c0a2a0a0b0a090a036170701202646212036e73311a166b756265726e657465732e696f2f686f73"
     "746e616d651a491247086412430a26120e0a036170701202496e1a0377656212140a0474696572120c446f65734e"
     "6f7445786973741a047a6f6e6522002a11706f642d74656d706c6174652d686173689a01086d792d7363686564a2"
     "014f0a04696e6974120762757379626f781a0273681a022d631a04747275652a0042005a130a0722050882471200"
     "100018002000280030006a007200800100880100900100a20100c20106416c77617973a80100b2011a0a016b1205"
     "457175616c1a017622094e6f45786563757465281eb2010e0a0012064578697374731a002200ba01160a09313237"
     "2e302e302e311209666f6f2e6c6f63616cc2010468696768c80100d201270a07312e312e312e311207732e6c6f63"
     "616c1a0a0a056e646f74731201321a070a0565646e7330d80101e201090a07782f7265616479ea0100f00100fa01"
     "054e6576657282020c0a0363707512050a0331306d8a0227080112047a6f6e651a0d446f4e6f745363686564756c"
     "65220c0a0a0a0361707012037765622802980200a202070a056c696e7578a80200b202060a04676174653800403c"
     "4a07496e646578656450005a400a1a0a074661696c4a6f62120f0a036170701202496e1801182a18000a220a0649"
     "676e6f72651a180a1044697372757074696f6e5461726765741204547275656001680272064661696c65641a0820"
     "00280030003a001a002200",
     "{\"kind\":\"Job\",\"apiVersion\":\"batch/"
     "v1\",\"metadata\":{\"name\":\"jr\",\"labels\":{\"l\":\"v\"},\"annotati"
     "ons\":{\"cronjob.kubernetes.io/"
     "instantiate\":\"manual\"},\"ownerReferences\":[{\"apiVersion\":\"batc"
     "h/"
     "v1\",\"kind\":\"CronJob\",\"name\":\"rich\",\"uid\":\"uid-rich\",\"controller\":true}]},"
     "\"spec\":{\"parall"
     "elism\":2,\"completions\":4,\"activeDeadlineSeconds\":100,\"podFailurePolicy\":{\"rules\":[{"
     "\"action"
     "\":\"FailJob\",\"onExitCodes\":{\"containerName\":\"app\",\"operator\":\"In\",\"values\":[1,"
     "42,0]}},{\"act"
     "ion\":\"Ignore\",\"onPodConditions\":[{\"type\":\"DisruptionTarget\",\"status\":\"True\"}]}]}"
     ",\"backoffL"
     "imit\":0,\"backoffLimitPerIndex\":1,\"maxFailedIndexes\":2,\"selector\":{\"matchLabels\":{"
     "\"j\":\"1\"}}"
     ",\"manualSelector\":true,\"template\":{\"metadata\":{\"labels\":{\"j\":\"1\"},"
     "\"annotations\":{\"a\":\"b\"}}"
     ",\"spec\":{\"volumes\":[{\"name\":\"data\",\"persistentVolumeClaim\":{\"claimName\":\"pvc1\","
     "\"readOnly\":"
     "true}},{\"name\":\"cfg\",\"configMap\":{\"name\":\"cm\",\"items\":[{\"key\":\"a\",\"path\":"
     "\"a.txt\",\"mode\":42"
     "0}],\"defaultMode\":420,\"optional\":true}},{\"name\":\"sec\",\"secret\":{\"secretName\":"
     "\"s\",\"defaultM"
     "ode\":256}},{\"name\":\"tmp\",\"emptyDir\":{\"medium\":\"Memory\",\"sizeLimit\":\"64Mi\"}},{"
     "\"name\":\"empty"
     "\",\"emptyDir\":{}},{\"name\":\"host\",\"hostPath\":{\"path\":\"/var/"
     "log\",\"type\":\"Directory\"}},{\"name\""
     ":\"host2\",\"hostPath\":{\"path\":\"/"
     "x\",\"type\":\"\"}},{\"name\":\"proj\",\"projected\":{\"sources\":[{\"serv"
     "iceAccountToken\":{\"audience\":\"api\",\"expirationSeconds\":3600,\"path\":\"token\"}},{"
     "\"configMap\":"
     "{\"name\":\"kube-root-ca.crt\",\"items\":[{\"key\":\"ca.crt\",\"path\":\"ca.crt\"}]}},{"
     "\"downwardAPI\":{\"i"
     "tems\":[{\"path\":\"namespace\",\"fieldRef\":{\"apiVersion\":\"v1\",\"fieldPath\":\"metadata."
     "namespace\"}"
     "}]}},{\"secret\":{\"name\":\"s2\",\"optional\":false}}],\"defaultMode\":420}},{\"name\":"
     "\"dapi\",\"downwa"
     "rdAPI\":{\"items\":[{\"path\":\"labels\",\"fieldRef\":{\"fieldPath\":\"metadata.labels\"}},{"
     "\"path\":\"cpu"
     "\",\"resourceFieldRef\":{\"containerName\":\"app\",\"resource\":\"requests.cpu\",\"divisor\":"
     "\"1m\"}}]}},"
     "{\"name\":\"eph\",\"ephemeral\":{\"volumeClaimTemplate\":{\"metadata\":{\"labels\":{\"t\":"
     "\"1\"}},\"spec\":{"
     "\"accessModes\":[\"ReadWriteOnce\"],\"resources\":{\"requests\":{\"storage\":\"1Gi\"}},"
     "\"storageClassNa"
     "me\":\"\"}}}},{\"name\":\"nfs\",\"nfs\":{\"server\":\"10.0.0.1\",\"path\":\"/"
     "exports\"}},{\"name\":\"csi\",\"csi"
     "\":{\"driver\":\"d.example.com\",\"readOnly\":true,\"volumeAttributes\":{\"k\":\"v\"},"
     "\"nodePublishSecre"
     "tRef\":{\"name\":\"n\"}}}],\"initContainers\":[{\"name\":\"init\",\"image\":\"busybox\","
     "\"command\":[\"sh\",\""
     "-c\",\"true\"],\"resources\":{},\"restartPolicy\":\"Always\",\"readinessProbe\":{\"grpc\":{"
     "\"port\":9090,"
     "\"service\":\"\"}}}],\"containers\":[{\"name\":\"app\",\"image\":\"nginx:1.25\",\"command\":["
     "\"/bin/sh\",\"-c"
     "\"],\"args\":[\"echo "
     "hi\",\"\"],\"workingDir\":\"/w\",\"ports\":[{\"name\":\"http\",\"containerPort\":8080,\"p"
     "rotocol\":\"TCP\"},{\"hostPort\":5353,\"containerPort\":53,\"protocol\":\"UDP\",\"hostIP\":"
     "\"127.0.0.1\"}"
     "],\"envFrom\":[{\"prefix\":\"P_\",\"configMapRef\":{\"name\":\"cm\",\"optional\":false}},{"
     "\"secretRef\":{\""
     "name\":\"sec\"}}],\"env\":[{\"name\":\"A\",\"value\":\"1\"},{\"name\":\"EMPTY\"},{\"name\":"
     "\"POD\",\"valueFrom\":"
     "{\"fieldRef\":{\"apiVersion\":\"v1\",\"fieldPath\":\"metadata.name\"}}},{\"name\":\"PW\","
     "\"valueFrom\":{\"s"
     "ecretKeyRef\":{\"name\":\"s\",\"key\":\"pw\",\"optional\":true}}},{\"name\":\"CFG\","
     "\"valueFrom\":{\"configM"
     "apKeyRef\":{\"name\":\"c\",\"key\":\"k\"}}},{\"name\":\"LIM\",\"valueFrom\":{"
     "\"resourceFieldRef\":{\"contain"
     "erName\":\"app\",\"resource\":\"limits.cpu\",\"divisor\":\"1m\"}}}],\"resources\":{"
     "\"limits\":{\"cpu\":\"500"
     "m\",\"memory\":\"128Mi\",\"nvidia.com/"
     "gpu\":\"1\"},\"requests\":{\"cpu\":\"250m\",\"ephemeral-storage\":\"1G"
     "i\",\"memory\":\"64Mi\"}},\"volumeMounts\":[{\"name\":\"data\",\"readOnly\":true,"
     "\"mountPath\":\"/data\",\"s"
     "ubPath\":\"x\"},{\"name\":\"cfg\",\"mountPath\":\"/"
     "cfg\",\"mountPropagation\":\"None\"}],\"livenessProbe\":"
     "{\"httpGet\":{\"path\":\"/"
     "healthz\",\"port\":8080,\"host\":\"h\",\"scheme\":\"HTTPS\",\"httpHeaders\":[{\"nam"
     "e\":\"X-A\",\"value\":\"1\"},{\"name\":\"X-Empty\",\"value\":\"\"}]},\"initialDelaySeconds\":"
     "3,\"timeoutSeco"
     "nds\":2,\"periodSeconds\":10,\"successThreshold\":1,\"failureThreshold\":5,"
     "\"terminationGracePerio"
     "dSeconds\":0},\"readinessProbe\":{\"tcpSocket\":{\"port\":\"http\"},\"periodSeconds\":7},"
     "\"startupProb"
     "e\":{\"exec\":{\"command\":[\"cat\",\"/tmp/"
     "ok\"]},\"failureThreshold\":30},\"lifecycle\":{\"postStart\":{"
     "\"exec\":{\"command\":[\"true\"]}},\"preStop\":{\"sleep\":{\"seconds\":5}}},"
     "\"terminationMessagePath\":\""
     "/dev/"
     "termination-log\",\"terminationMessagePolicy\":\"FallbackToLogsOnError\",\"imagePullPolicy\""
     ":\"IfNotPresent\",\"securityContext\":{\"capabilities\":{\"add\":[\"NET_ADMIN\"],\"drop\":["
     "\"ALL\"]},\"pr"
     "ivileged\":false,\"runAsUser\":1000,\"runAsGroup\":0,\"runAsNonRoot\":true,"
     "\"readOnlyRootFilesyste"
     "m\":false,\"allowPrivilegeEscalation\":false,\"seccompProfile\":{\"type\":\"RuntimeDefault\"}"
     "},\"std"
     "in\":true,\"tty\":true},{\"name\":\"side\",\"image\":\"busybox\",\"resources\":{}}],"
     "\"restartPolicy\":\"On"
     "Failure\",\"terminationGracePeriodSeconds\":0,\"activeDeadlineSeconds\":600,\"dnsPolicy\":"
     "\"Cluste"
     "rFirstWithHostNet\",\"nodeSelector\":{\"disktype\":\"ssd\",\"kubernetes.io/"
     "os\":\"linux\"},\"serviceAc"
     "countName\":\"sa1\",\"serviceAccount\":\"sa1\",\"automountServiceAccountToken\":false,"
     "\"nodeName\":\"n"
     "ode1\",\"hostNetwork\":true,\"shareProcessNamespace\":true,\"securityContext\":{"
     "\"runAsUser\":1000,"
     "\"runAsNonRoot\":true,\"supplementalGroups\":[1,2,3000000000],\"fsGroup\":2000,\"sysctls\":[{"
     "\"name"
     "\":\"net.core.somaxconn\",\"value\":\"1024\"}],\"fsGroupChangePolicy\":\"OnRootMismatch\","
     "\"seccompPro"
     "file\":{\"type\":\"Localhost\",\"localhostProfile\":\"p.json\"}},\"imagePullSecrets\":[{"
     "\"name\":\"regcr"
     "ed\"}],\"hostname\":\"h1\",\"subdomain\":\"sub\",\"affinity\":{\"nodeAffinity\":{"
     "\"requiredDuringSchedul"
     "ingIgnoredDuringExecution\":{\"nodeSelectorTerms\":[{\"matchExpressions\":[{\"key\":\"zone\","
     "\"opera"
     "tor\":\"In\",\"values\":[\"a\",\"b\"]}],\"matchFields\":[{\"key\":\"metadata.name\","
     "\"operator\":\"NotIn\",\"v"
     "alues\":[\"n1\"]}]}]},\"preferredDuringSchedulingIgnoredDuringExecution\":[{\"weight\":10,"
     "\"prefer"
     "ence\":{\"matchExpressions\":[{\"key\":\"ssd\",\"operator\":\"Exists\"}]}}]},\"podAffinity\":"
     "{\"required"
     "DuringSchedulingIgnoredDuringExecution\":[{\"labelSelector\":{\"matchLabels\":{\"app\":"
     "\"db\"}},\"na"
     "mespaces\":[\"ns1\"],\"topologyKey\":\"kubernetes.io/"
     "hostname\"}]},\"podAntiAffinity\":{\"preferredD"
     "uringSchedulingIgnoredDuringExecution\":[{\"weight\":100,\"podAffinityTerm\":{"
     "\"labelSelector\":{"
     "\"matchExpressions\":[{\"key\":\"app\",\"operator\":\"In\",\"values\":[\"web\"]},{\"key\":"
     "\"tier\",\"operator"
     "\":\"DoesNotExist\"}]},\"topologyKey\":\"zone\",\"namespaceSelector\":{},\"matchLabelKeys\":["
     "\"pod-tem"
     "plate-hash\"]}}]}},\"schedulerName\":\"my-sched\",\"tolerations\":[{\"key\":\"k\","
     "\"operator\":\"Equal\","
     "\"value\":\"v\",\"effect\":\"NoExecute\",\"tolerationSeconds\":30},{\"operator\":\"Exists\"}]"
     ",\"hostAlias"
     "es\":[{\"ip\":\"127.0.0.1\",\"hostnames\":[\"foo.local\"]}],\"priorityClassName\":\"high\","
     "\"priority\":0"
     ",\"dnsConfig\":{\"nameservers\":[\"1.1.1.1\"],\"searches\":[\"s.local\"],\"options\":[{"
     "\"name\":\"ndots\","
     "\"value\":\"2\"},{\"name\":\"edns0\"}]},\"readinessGates\":[{\"conditionType\":\"x/"
     "ready\"}],\"runtimeCla"
     "ssName\":\"\",\"enableServiceLinks\":false,\"preemptionPolicy\":\"Never\",\"overhead\":{"
     "\"cpu\":\"10m\"},"
     "\"topologySpreadConstraints\":[{\"maxSkew\":1,\"topologyKey\":\"zone\",\"whenUnsatisfiable\":"
     "\"DoNotS"
     "chedule\",\"labelSelector\":{\"matchLabels\":{\"app\":\"web\"}},\"minDomains\":2}],"
     "\"setHostnameAsFQDN"
     "\":false,\"os\":{\"name\":\"linux\"},\"hostUsers\":false,\"schedulingGates\":[{\"name\":"
     "\"gate\"}]}},\"ttl"
     "SecondsAfterFinished\":60,\"completionMode\":\"Indexed\",\"suspend\":false,"
     "\"podReplacementPolicy\""
     ":\"Failed\"},\"status\":{}}"},
    /* kubectl 1.32 create cronjob cj1 --image=busybox --schedule='[*]/5 [*] [*] [*] [*]'
       --restart=OnFailure
       -- date (199 bytes) */
    {"cronjob",
     "6b3873000a130a0862617463682f7631120743726f6e4a6f6212a7010a130a03636a3112001a0022002a00320038"
     "004200128d010a0b2a2f35202a202a202a202a1a002a7c0a130a03636a3112001a0022002a003200380042001265"
     "32630a100a0012001a0022002a00320038004200124f12280a03636a31120762757379626f781a04646174652a00"
     "42006a007200800100880100900100a201001a094f6e4661696c757265320042004a005200580060006800820100"
     "8a01009a0100c201001a001a002200",
     "{\"kind\":\"CronJob\",\"apiVersion\":\"batch/"
     "v1\",\"metadata\":{\"name\":\"cj1\"},\"spec\":{\"schedule\":\"*/"
     "5 * * * "
     "*\",\"jobTemplate\":{\"metadata\":{\"name\":\"cj1\"},\"spec\":{\"template\":{\"metadata\":{},"
     "\"spe"
     "c\":{\"containers\":[{\"name\":\"cj1\",\"image\":\"busybox\",\"command\":[\"date\"],"
     "\"resources\":{}}],\"res"
     "tartPolicy\":\"OnFailure\"}}}}},\"status\":{}}"},
    /* kubectl 1.32 create ingress ing1 --class=nginx --rule=foo.com/bar=svc1:8080,tls=my-cert
       --rule=foo.com/path*=svc2:https --default-backend=defsvc:http --annotation=a=b (215 bytes) */
    {"ingress",
     "6b3873000a1f0a146e6574776f726b696e672e6b38732e696f2f76311207496e677265737312ab010a1c0a04696e"
     "673112001a0022002a0032003800420062060a01611201621286010a1422120a0664656673766312080a04687474"
     "70100012120a07666f6f2e636f6d12076d792d636572741a530a07666f6f2e636f6d12480a460a1e0a042f626172"
     "120f220d0a047376633112050a0010903f1a0545786163740a240a052f70617468121322110a047376633212090a"
     "05687474707310001a0650726566697822056e67696e781a020a001a002200",
     "{\"kind\":\"Ingress\",\"apiVersion\":\"networking.k8s.io/"
     "v1\",\"metadata\":{\"name\":\"ing1\",\"annotatio"
     "ns\":{\"a\":\"b\"}},\"spec\":{\"ingressClassName\":\"nginx\",\"defaultBackend\":{\"service\":"
     "{\"name\":\"def"
     "svc\",\"port\":{\"name\":\"http\"}}},\"tls\":[{\"hosts\":[\"foo.com\"],\"secretName\":\"my-"
     "cert\"}],\"rules\""
     ":[{\"host\":\"foo.com\",\"http\":{\"paths\":[{\"path\":\"/"
     "bar\",\"pathType\":\"Exact\",\"backend\":{\"service"
     "\":{\"name\":\"svc1\",\"port\":{\"number\":8080}}}},{\"path\":\"/"
     "path\",\"pathType\":\"Prefix\",\"backend\":{"
     "\"service\":{\"name\":\"svc2\",\"port\":{\"name\":\"https\"}}}}]}}]},\"status\":{"
     "\"loadBalancer\":{}}}"},
    /* kubectl 1.32 autoscale deployment d1 --min=2 --max=5 --cpu-percent=80 (114 bytes) */
    {"autoscale",
     "6b3873000a290a0e6175746f7363616c696e672f76311217486f72697a6f6e74616c506f644175746f7363616c65"
     "72123d0a120a02643112001a0022002a0032003800420012210a190a0a4465706c6f796d656e74120264311a0761"
     "7070732f76311002180520501a04180020001a002200",
     "{\"kind\":\"HorizontalPodAutoscaler\",\"apiVersion\":\"autoscaling/"
     "v1\",\"metadata\":{\"name\":\"d1\"},\""
     "spec\":{\"scaleTargetRef\":{\"kind\":\"Deployment\",\"name\":\"d1\",\"apiVersion\":\"apps/"
     "v1\"},\"minRepli"
     "cas\":2,\"maxReplicas\":5,\"targetCPUUtilizationPercentage\":80},\"status\":{"
     "\"currentReplicas\":0,"
     "\"desiredReplicas\":0}}"},
    /* kubectl 1.33 autoscale deployment d1 --min=2 --max=5 --cpu-percent=80 (148 bytes) */
    {"autoscale-1.33",
     "6b3873000a290a0e6175746f7363616c696e672f76321217486f72697a6f6e74616c506f644175746f7363616c65"
     "72125f0a120a02643112001a0022002a0032003800420012430a190a0a4465706c6f796d656e74120264311a0761"
     "7070732f76311002180522220a085265736f7572636522160a03637075120f0a0b5574696c697a6174696f6e2050"
     "1a04180020001a002200",
     "{\"kind\":\"HorizontalPodAutoscaler\",\"apiVersion\":\"autoscaling/"
     "v2\",\"metadata\":{\"name\":\"d1\"},\""
     "spec\":{\"scaleTargetRef\":{\"kind\":\"Deployment\",\"name\":\"d1\",\"apiVersion\":\"apps/"
     "v1\"},\"minRepli"
     "cas\":2,\"maxReplicas\":5,\"metrics\":[{\"type\":\"Resource\",\"resource\":{\"name\":\"cpu\","
     "\"target\":{\"t"
     "ype\":\"Utilization\",\"averageUtilization\":80}}}]},\"status\":{\"desiredReplicas\":0}}"},
    /* kubectl 1.32 create token sa1 --audience=aud1 --audience=aud2 --duration=10m (93 bytes) */
    {"token",
     "6b3873000a280a1861757468656e7469636174696f6e2e6b38732e696f2f7631120c546f6b656e52657175657374"
     "12290a100a0012001a0022002a00320038004200120f0a04617564310a046175643220d8041a040a0012001a0022"
     "00",
     "{\"apiVersion\":\"authentication.k8s.io/"
     "v1\",\"kind\":\"TokenRequest\",\"metadata\":{},\"spec\":{\"audi"
     "ences\":[\"aud1\",\"aud2\"],\"expirationSeconds\":600},\"status\":{\"token\":\"\"}}"},
    /* kubectl 1.32 create token sa1 --bound-object-kind=Pod --bound-object-name=p1 (95 bytes) */
    {"token-bound",
     "6b3873000a280a1861757468656e7469636174696f6e2e6b38732e696f2f7631120c546f6b656e52657175657374"
     "122b0a100a0012001a0022002a0032003800420012111a0f0a03506f64120276311a02703122001a040a0012001a"
     "002200",
     "{\"apiVersion\":\"authentication.k8s.io/"
     "v1\",\"kind\":\"TokenRequest\",\"metadata\":{},\"spec\":{\"boun"
     "dObjectRef\":{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"name\":\"p1\"}},\"status\":{\"token\":"
     "\"\"}}"},
    /* kubectl 1.32 auth can-i create deployments.apps --subresource=scale -n kube-system (145
       bytes) */
    {"can-i-sub",
     "6b3873000a320a17617574686f72697a6174696f6e2e6b38732e696f2f7631121753656c665375626a6563744163"
     "6365737352657669657712530a100a0012001a0022002a0032003800420012350a330a0b6b7562652d7379737465"
     "6d12066372656174651a046170707322002a0b6465706c6f796d656e747332057363616c653a001a08080012001a"
     "0020001a002200",
     "{\"apiVersion\":\"authorization.k8s.io/"
     "v1\",\"kind\":\"SelfSubjectAccessReview\",\"metadata\":{},\"sp"
     "ec\":{\"resourceAttributes\":{\"group\":\"apps\",\"namespace\":\"kube-system\",\"resource\":"
     "\"deployment"
     "s\",\"subresource\":\"scale\",\"verb\":\"create\"}},\"status\":{\"allowed\":false}}"},
    /* kubectl 1.32 auth can-i get /logs (106 bytes) */
    {"can-i-nonres",
     "6b3873000a320a17617574686f72697a6174696f6e2e6b38732e696f2f7631121753656c665375626a6563744163"
     "63657373526576696577122c0a100a0012001a0022002a00320038004200120e120c0a052f6c6f67731203676574"
     "1a08080012001a0020001a002200",
     "{\"apiVersion\":\"authorization.k8s.io/"
     "v1\",\"kind\":\"SelfSubjectAccessReview\",\"metadata\":{},\"sp"
     "ec\":{\"nonResourceAttributes\":{\"path\":\"/"
     "logs\",\"verb\":\"get\"}},\"status\":{\"allowed\":false}}"},
    /* kubectl 1.32 auth can-i --list -n default (96 bytes) */
    {"can-i-list",
     "6b3873000a310a17617574686f72697a6174696f6e2e6b38732e696f2f7631121653656c665375626a6563745275"
     "6c657352657669657712230a100a0012001a0022002a0032003800420012090a0764656661756c741a0418002200"
     "1a002200",
     "{\"apiVersion\":\"authorization.k8s.io/"
     "v1\",\"kind\":\"SelfSubjectRulesReview\",\"metadata\":{},\"spe"
     "c\":{\"namespace\":\"default\"},\"status\":{\"incomplete\":false}}"},
    /* kubectl 1.32 create poddisruptionbudget pdb1 --selector=app=x --min-available=50% (103 bytes)
     */
    {"pdb",
     "6b3873000a200a09706f6c6963792f76311213506f6444697372757074696f6e427564676574123b0a140a047064"
     "623112001a0022002a0032003800420012170a09080110001a03353025120a0a080a036170701201781a0a080018"
     "002000280030001a002200",
     "{\"kind\":\"PodDisruptionBudget\",\"apiVersion\":\"policy/"
     "v1\",\"metadata\":{\"name\":\"pdb1\"},\"spec\":{"
     "\"minAvailable\":\"50%\",\"selector\":{\"matchLabels\":{\"app\":\"x\"}}},\"status\":{"
     "\"disruptionsAllowed"
     "\":0,\"currentHealthy\":0,\"desiredHealthy\":0,\"expectedPods\":0}}"},
    /* kubectl 1.32 create poddisruptionbudget pdb2 --selector=app=y --max-unavailable=1 (100 bytes)
     */
    {"pdb-max",
     "6b3873000a200a09706f6c6963792f76311213506f6444697372757074696f6e42756467657412380a140a047064"
     "623212001a0022002a003200380042001214120a0a080a036170701201791a06080010011a001a0a080018002000"
     "280030001a002200",
     "{\"kind\":\"PodDisruptionBudget\",\"apiVersion\":\"policy/"
     "v1\",\"metadata\":{\"name\":\"pdb2\"},\"spec\":{"
     "\"selector\":{\"matchLabels\":{\"app\":\"y\"}},\"maxUnavailable\":1},\"status\":{"
     "\"disruptionsAllowed\":"
     "0,\"currentHealthy\":0,\"desiredHealthy\":0,\"expectedPods\":0}}"},
    /* kubectl 1.32 create priorityclass pc1 --value=1000 --global-default --description=high
       --preemption-policy=Never (88 bytes) */
    {"priorityclass",
     "6b3873000a250a147363686564756c696e672e6b38732e696f2f7631120d5072696f72697479436c61737312270a"
     "130a0370633112001a0022002a0032003800420010e80718012204686967682a054e657665721a002200",
     "{\"kind\":\"PriorityClass\",\"apiVersion\":\"scheduling.k8s.io/"
     "v1\",\"metadata\":{\"name\":\"pc1\"},\"val"
     "ue\":1000,\"globalDefault\":true,\"description\":\"high\",\"preemptionPolicy\":\"Never\"}"},
    /* kubectl 1.32 create quota q1 --hard=cpu=1,memory=1G,pods=2 --scopes=BestEffort (108 bytes) */
    {"quota",
     "6b3873000a130a027631120d5265736f7572636551756f7461124d0a120a02713112001a0022002a003200380042"
     "0012350a0a0a0363707512030a01310a0e0a066d656d6f727912040a0231470a0b0a04706f647312030a0132120a"
     "426573744566666f72741a001a002200",
     "{\"kind\":\"ResourceQuota\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"q1\"},\"spec\":{"
     "\"hard\":{\"cpu\":\""
     "1\",\"memory\":\"1G\",\"pods\":\"2\"},\"scopes\":[\"BestEffort\"]},\"status\":{}}"},
    /* kubectl 1.32 create clusterrole cr1 --aggregation-rule=rbac.example.com/agg=true (110 bytes)
     */
    {"clusterrole-agg",
     "6b3873000a2b0a1c726261632e617574686f72697a6174696f6e2e6b38732e696f2f7631120b436c757374657252"
     "6f6c6512370a130a0363723112001a0022002a003200380042001a200a1e0a1c0a14726261632e6578616d706c65"
     "2e636f6d2f6167671204747275651a002200",
     "{\"kind\":\"ClusterRole\",\"apiVersion\":\"rbac.authorization.k8s.io/"
     "v1\",\"metadata\":{\"name\":\"cr1\""
     "},\"aggregationRule\":{\"clusterRoleSelectors\":[{\"matchLabels\":{\"rbac.example.com/"
     "agg\":\"true\""
     "}}]}}"},
    /* kubectl 1.32 create clusterrole cr3 --verb=get --non-resource-url='/logs/[*]' (92 bytes) */
    {"clusterrole-nonres",
     "6b3873000a2b0a1c726261632e617574686f72697a6174696f6e2e6b38732e696f2f7631120b436c757374657252"
     "6f6c6512250a130a0363723312001a0022002a00320038004200120e0a036765742a072f6c6f67732f2a1a002200",
     "{\"kind\":\"ClusterRole\",\"apiVersion\":\"rbac.authorization.k8s.io/"
     "v1\",\"metadata\":{\"name\":\"cr3\""
     "},\"rules\":[{\"verbs\":[\"get\"],\"nonResourceURLs\":[\"/logs/*\"]}]}"},
};

/* kubectl 1.32 debug richpod --copy-to=dbg --image=busybox --container=dbgc
 * --profile=general -- sleep 1,
 * where richpod's spec is the pod template of the job-rich case above. */
static const char *DEBUG_COPY_POD =
    "6b3873000a090a0276311203506f6412c30f0a1a0a0364626712001a0764656661756c7422002a00320038004200"
    "12920f0a120a0464617461120a52080a047076633110010a240a03636667121d9a011a0a040a02636d120d0a0161"
    "1205612e74787418a40318a40320010a0f0a03736563120832060a01731880020a190a03746d70121212100a064d"
    "656d6f727912060a0436344d690a0d0a05656d707479120412020a000a1f0a04686f737412170a150a082f766172"
    "2f6c6f6712094469726563746f72790a110a05686f73743212080a060a022f7812000a82010a0470726f6a127ad2"
    "01770a11220f0a0361706910901c1a05746f6b656e0a281a260a120a106b7562652d726f6f742d63612e63727412"
    "100a0663612e637274120663612e6372740a2912270a250a096e616d65737061636512180a02763112126d657461"
    "646174612e6e616d6573706163650a0a0a080a040a027332200010a4030a4c0a046461706912448201410a1d0a06"
    "6c6162656c7312130a00120f6d657461646174612e6c6162656c730a200a036370751a190a03617070120c726571"
    "75657374732e6370751a040a02316d0a4f0a036570681248ea01450a430a180a0012001a0022002a003200380042"
    "005a060a017412013112270a0d5265616457726974654f6e6365121212100a0773746f7261676512050a03314769"
    "1a002a000a1f0a036e667312183a160a0831302e302e302e3112082f6578706f72747318000a280a036373691221"
    "e2011e0a0d642e6578616d706c652e636f6d100122060a016b1201762a030a016e12ad040a03617070120a6e6769"
    "6e783a312e32351a072f62696e2f73681a022d6322076563686f20686922002a022f7732120a0468747470100018"
    "903f22035443502a0032170a0010e929183522035544502a093132372e302e302e313a060a01411201313a090a05"
    "454d50545912003a1e0a03504f4412001a150a130a027631120d6d657461646174612e6e616d653a150a02505712"
    "001a0d220b0a030a01731202707718013a130a0343464712001a0a1a080a030a016312016b3a220a034c494d1200"
    "1a1912170a03617070120a6c696d6974732e6370751a040a02316d42760a0d0a0363707512060a043530306d0a11"
    "0a066d656d6f727912070a053132384d690a150a0e6e76696469612e636f6d2f67707512030a0131120d0a036370"
    "7512060a043235306d121a0a11657068656d6572616c2d73746f7261676512050a0331476912100a066d656d6f72"
    "7912060a0436344d694a140a046461746110011a052f6461746122017832004a170a0363666710001a042f636667"
    "22002a044e6f6e65320062100a080a060a04747275651204220208056a142f6465762f7465726d696e6174696f6e"
    "2d6c6f67720c49664e6f7450726573656e747a310a100a094e45545f41444d494e1203414c4c100020e807280130"
    "00380040005a100a0e52756e74696d6544656661756c748001018801009001019a010e0a02505f12080a040a0263"
    "6d10009a010b0a001a070a050a03736563a2011546616c6c6261636b546f4c6f67734f6e4572726f7212230a0473"
    "696465120762757379626f782a0042006a007200800100880100900100a2010012410a0464626763120762757379"
    "626f781a05736c6565701a01312a0042006a0072007a0e0a0c0a0a5359535f505452414345800100880100900100"
    "a2010446696c651a094f6e4661696c757265200028d8043217436c7573746572466972737457697468486f73744e"
    "65743a0f0a086469736b7479706512037373643a190a106b756265726e657465732e696f2f6f7312056c696e7578"
    "42037361314a037361315200580160006800725310e8071801200120022080bcc1960b28d00f3a1a0a126e65742e"
    "636f72652e736f6d6178636f6e6e1204313032344a0e4f6e526f6f744d69736d6174636852130a094c6f63616c68"
    "6f73741206702e6a736f6e7a090a077265676372656482010268318a01037375629201c2010a470a300a2e0a100a"
    "047a6f6e651202496e1a01611a0162121a0a0d6d657461646174612e6e616d6512054e6f74496e1a026e31121308"
    "0a120f0a0d0a037373641206457869737473122c0a2a0a0b0a090a036170701202646212036e73311a166b756265"
    "726e657465732e696f2f686f73746e616d651a491247086412430a26120e0a036170701202496e1a037765621214"
    "0a0474696572120c446f65734e6f7445786973741a047a6f6e6522002a11706f642d74656d706c6174652d686173"
    "689a01086d792d7363686564a2014f0a04696e6974120762757379626f781a0273681a022d631a04747275652a00"
    "42005a130a0722050882471200100018002000280030006a007200800100880100900100a20100c20106416c7761"
    "7973a80100b2011a0a016b1205457175616c1a017622094e6f45786563757465281eb2010e0a0012064578697374"
    "731a002200ba01160a093132372e302e302e311209666f6f2e6c6f63616cc2010468696768c80100d201270a0731"
    "2e312e312e311207732e6c6f63616c1a0a0a056e646f74731201321a070a0565646e7330d80101e201090a07782f"
    "7265616479ea0100f00100fa01054e6576657282020c0a0363707512050a0331306d8a0227080112047a6f6e651a"
    "0d446f4e6f745363686564756c65220c0a0a0a0361707012037765622802980200a202070a056c696e7578a80200"
    "b202060a04676174651a100a001a0022002a0032004a005a0072001a002200";

static void test_captured(void)
{
    for (size_t i = 0; i < sizeof captured / sizeof captured[0]; i++) {
        fprintf(stderr, "captured %s\n", captured[i].name);
        expect_json(decode_hex(captured[i].hex), captured[i].json);
    }
}

/* The copy kubectl debug makes keeps the whole PodSpec but nodeName and the probes
 * and adds one container: decoded as a Pod it must equal the Job template's decoded
 * spec (itself checked against kubectl's JSON above) with those changes. */
static void test_pod_copy(void)
{
    json_t *job = NULL, *pod = decode_hex(DEBUG_COPY_POD);
    CHECK(pod);
    for (size_t i = 0; i < sizeof captured / sizeof captured[0]; i++) {
        if (strcmp(captured[i].name, "job-rich") == 0)
            job = decode_hex(captured[i].hex);
    }
    CHECK(job);
    json_t *tmpl = json_object_get(json_object_get(job, "spec"), "template");
    json_t *want = json_deep_copy(json_object_get(tmpl, "spec"));
    json_t *got = json_object_get(pod, "spec");
    CHECK(want && got);
    CHECK(json_object_del(want, "nodeName") == 0);
    /* --profile=general drops the copied containers' probes */
    json_t *app = json_array_get(json_object_get(want, "containers"), 0);
    CHECK(json_object_del(app, "livenessProbe") == 0);
    CHECK(json_object_del(app, "readinessProbe") == 0);
    CHECK(json_object_del(app, "startupProbe") == 0);
    json_t *containers = json_object_get(got, "containers");
    CHECK(json_array_size(containers) == 3);
    expect_json(json_incref(json_array_get(containers, 2)),
                "{\"name\":\"dbgc\",\"image\":\"busybox\",\"command\":[\"sleep\",\"1\"],"
                "\"resources\":{},\"terminationMessagePolicy\":\"File\",\"securityContext\":{"
                "\"capabilities\":{\"add\":[\"SYS_PTRACE\"]}}}");
    CHECK(json_array_remove(containers, 2) == 0);
    CHECK(json_equal(want, got));
    CHECK(strcmp(json_string_value(json_object_get(pod, "kind")), "Pod") == 0);
    json_decref(want);
    json_decref(job);
    json_decref(pod);
}

static void test_supported(void)
{
    static const char *const kinds[][2] = {
        {"v1", "ConfigMap"},
        {"v1", "Pod"},
        {"v1", "ResourceQuota"},
        {"apps/v1", "Deployment"},
        {"apps/v1", "ReplicaSet"},
        {"apps/v1", "StatefulSet"},
        {"apps/v1", "DaemonSet"},
        {"batch/v1", "Job"},
        {"batch/v1", "CronJob"},
        {"networking.k8s.io/v1", "Ingress"},
        {"autoscaling/v1", "HorizontalPodAutoscaler"},
        {"autoscaling/v2", "HorizontalPodAutoscaler"},
        {"authentication.k8s.io/v1", "TokenRequest"},
        {"authorization.k8s.io/v1", "SelfSubjectAccessReview"},
        {"authorization.k8s.io/v1", "SelfSubjectRulesReview"},
        {"policy/v1", "PodDisruptionBudget"},
        {"scheduling.k8s.io/v1", "PriorityClass"},
        {"rbac.authorization.k8s.io/v1", "ClusterRole"},
        {"v1", "Node"},
        {"v1", "Event"},
        {"v1", "Endpoints"},
        {"v1", "LimitRange"},
        {"v1", "PersistentVolume"},
        {"v1", "ReplicationController"},
        {"apps/v1", "ControllerRevision"},
        {"discovery.k8s.io/v1", "EndpointSlice"},
        {"coordination.k8s.io/v1", "Lease"},
        {"networking.k8s.io/v1", "IngressClass"},
        {"networking.k8s.io/v1", "NetworkPolicy"},
        {"events.k8s.io/v1", "Event"},
    };
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        CHECK(tri_protobuf_supported(kinds[i][0], kinds[i][1]));
    CHECK(!tri_protobuf_supported("v1", "ComponentStatus"));
    CHECK(!tri_protobuf_supported("apps/v1beta1", "Deployment"));
    enc_t raw = {0}, env = {0};
    envelope(&env, "v1", "ComponentStatus", &raw);
    CHECK(!decode(&env) && strstr(err, "unsupported kind"));
}

/* ---------- hand-built ---------- */

static void object_meta(enc_t *m)
{
    enc_t own = {0}, ts = {0};
    put_str(m, 1, "x");
    put_str(m, 2, "gen-");
    put_str(m, 3, "default");
    put_uint(m, 7, 3);
    put_uint(&ts, 1, 1700000000); /* 2023-11-14T22:13:20Z */
    put_msg(m, 8, &ts);
    put_map(m, 11, "app", "web", 3);
    put_map(m, 12, "note", "", 0);
    put_str(&own, 1, "Deployment");
    put_str(&own, 3, "d");
    put_str(&own, 4, "uid-1");
    put_str(&own, 5, "apps/v1");
    put_uint(&own, 6, 1);
    put_msg(m, 13, &own);
    put_str(m, 14, "f1");
    put_str(m, 14, "f2");
    put_uint(m, 99, 12345);          /* unknown varint field: skipped */
    put_str(m, 98, "unknown bytes"); /* unknown length-delimited field: skipped */
    put_varint(m, 97 << 3 | 5);      /* unknown fixed32 */
    memcpy(m->b + m->n, "abcd", 4);
    m->n += 4;
}

static const char *META_JSON =
    "{\"name\":\"x\",\"generateName\":\"gen-\",\"namespace\":\"default\",\"generation\":3,"
    "\"creationTimestamp\":\"2023-11-14T22:13:20Z\",\"labels\":{\"app\":\"web\"},"
    "\"annotations\":{\"note\":\"\"},\"ownerReferences\":[{\"kind\":\"Deployment\","
    "\"name\":\"d\",\"uid\":\"uid-1\",\"apiVersion\":\"apps/v1\",\"controller\":true}],"
    "\"finalizers\":[\"f1\",\"f2\"]}";

static void test_handmade(void)
{
    enc_t meta = {0}, cm = {0}, env = {0};
    object_meta(&meta);
    put_msg(&cm, 1, &meta);
    put_map(&cm, 2, "k", "v", 1);
    put_map(&cm, 3, "bin", "\x00\x01\xff", 3);
    put_uint(&cm, 4, 0); /* immutable: *bool, kept even when false */
    envelope(&env, "v1", "ConfigMap", &cm);
    char want[2048];
    snprintf(want, sizeof want,
             "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":%s,\"data\":{\"k\":"
             "\"v\"},\"binaryData\":{\"bin\":\"AAH/\"},\"immutable\":false}",
             META_JSON);
    expect_json(decode(&env), want);

    enc_t ns = {0}, spec = {0}, status = {0};
    put_str(&spec, 1, "kubernetes");
    put_str(&status, 1, "Active");
    put_msg(&ns, 1, &meta);
    put_msg(&ns, 2, &spec);
    put_msg(&ns, 3, &status);
    envelope(&env, "v1", "Namespace", &ns);
    snprintf(want, sizeof want,
             "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":%s,\"spec\":{"
             "\"finalizers\":[\"kubernetes\"]},\"status\":{\"phase\":\"Active\"}}",
             META_JSON);
    expect_json(decode(&env), want);

    enc_t sec = {0}, m2 = {0};
    put_str(&m2, 1, "s");
    put_msg(&sec, 1, &m2);
    put_map(&sec, 2, "a", "xy", 2);
    put_map(&sec, 4, "plain", "text", 4);
    put_str(&sec, 3, "Opaque");
    put_uint(&sec, 5, 1);
    envelope(&env, "v1", "Secret", &sec);
    expect_json(decode(&env), "{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"metadata\":{"
                              "\"name\":\"s\"},\"data\":{\"a\":\"eHk=\"},\"stringData\":{"
                              "\"plain\":\"text\"},\"type\":\"Opaque\",\"immutable\":true}");

    enc_t sa = {0}, ref = {0}, lref = {0};
    put_str(&ref, 3, "tok");
    put_str(&lref, 1, "pull");
    put_msg(&sa, 1, &m2);
    put_msg(&sa, 2, &ref);
    put_msg(&sa, 3, &lref);
    put_uint(&sa, 4, 0);
    envelope(&env, "v1", "ServiceAccount", &sa);
    expect_json(decode(&env), "{\"apiVersion\":\"v1\",\"kind\":\"ServiceAccount\",\"metadata\":{"
                              "\"name\":\"s\"},\"secrets\":[{\"name\":\"tok\"}],"
                              "\"imagePullSecrets\":[{\"name\":\"pull\"}],"
                              "\"automountServiceAccountToken\":false}");
}

/* ---------- hand-built: what kubectl's typed commands never fill in ---------- */

static void put_quantity(enc_t *e, unsigned field, const char *q)
{
    enc_t m = {0};
    put_str(&m, 1, q);
    put_msg(e, field, &m);
}

static void put_qty_map(enc_t *e, unsigned field, const char *k, const char *q)
{
    enc_t entry = {0};
    put_str(&entry, 1, k);
    put_quantity(&entry, 2, q);
    put_msg(e, field, &entry);
}

/* IntOrString: type 0 carries intVal (2), type 1 strVal (3) */
static void put_int_or_string(enc_t *e, unsigned field, int is_str, int64_t i, const char *s)
{
    enc_t m = {0};
    put_uint(&m, 1, (uint64_t)is_str);
    put_uint(&m, 2, is_str ? 0 : (uint64_t)i);
    put_str(&m, 3, is_str ? s : "");
    put_msg(e, field, &m);
}

static void named_meta(enc_t *m, const char *name)
{
    m->n = 0;
    put_str(m, 1, name);
}

/* selector {matchLabels app=web, matchExpressions [{tier In [a b]}]} */
static void web_selector(enc_t *sel)
{
    enc_t req = {0};
    put_map(sel, 1, "app", "web", 3);
    put_str(&req, 1, "tier");
    put_str(&req, 2, "In");
    put_str(&req, 3, "a");
    put_str(&req, 3, "b");
    put_msg(sel, 2, &req);
}

static const char *WEB_SELECTOR_JSON = "{\"matchLabels\":{\"app\":\"web\"},\"matchExpressions\":"
                                       "[{\"key\":\"tier\",\"operator\":\"In\",\"values\":[\"a\","
                                       "\"b\"]}]}";

/* PodTemplateSpec {metadata {labels app=web}, spec {containers [{c, nginx}]}} */
static void web_template(enc_t *t)
{
    enc_t meta = {0}, spec = {0}, c = {0};
    put_map(&meta, 11, "app", "web", 3);
    put_str(&c, 1, "c");
    put_str(&c, 2, "nginx");
    put_msg(&spec, 2, &c);
    put_msg(t, 1, &meta);
    put_msg(t, 2, &spec);
}

static const char *WEB_TEMPLATE_JSON = "{\"metadata\":{\"labels\":{\"app\":\"web\"}},\"spec\":{"
                                       "\"containers\":[{\"name\":\"c\",\"image\":\"nginx\"}]}}";

static void expect_workload(const enc_t *raw, const char *api_version, const char *kind,
                            const char *spec_json, const char *status_json)
{
    enc_t env = {0};
    char want[4096];
    envelope(&env, api_version, kind, raw);
    snprintf(want, sizeof want,
             "{\"apiVersion\":\"%s\",\"kind\":\"%s\",\"metadata\":{\"name\":\"web\"},\"spec\":%s,"
             "\"status\":%s}",
             api_version, kind, spec_json, status_json);
    expect_json(decode(&env), want);
}

static void test_workloads(void)
{
    enc_t meta = {0}, sel = {0}, tmpl = {0};
    named_meta(&meta, "web");
    web_selector(&sel);
    web_template(&tmpl);
    char spec[2048];

    /* Deployment: replicas 0 is kept (*int32), IntOrString both ways, status read */
    enc_t d = {0}, ds = {0}, strat = {0}, ru = {0}, st = {0}, cond = {0}, ts = {0};
    put_uint(&ds, 1, 0);
    put_msg(&ds, 2, &sel);
    put_msg(&ds, 3, &tmpl);
    put_int_or_string(&ru, 1, 1, 0, "25%");
    put_int_or_string(&ru, 2, 0, 1, NULL);
    put_str(&strat, 1, "RollingUpdate");
    put_msg(&strat, 2, &ru);
    put_msg(&ds, 4, &strat);
    put_uint(&ds, 5, 5);
    put_uint(&ds, 6, 10);
    put_uint(&ds, 7, 1);
    put_uint(&ds, 9, 600);
    put_uint(&st, 2, 2);
    put_uint(&st, 5, 0); /* unavailableReplicas 0: omitempty */
    put_str(&cond, 1, "Available");
    put_str(&cond, 2, "True");
    put_uint(&ts, 1, 1700000000);
    put_msg(&cond, 6, &ts);
    put_str(&cond, 4, "MinimumReplicasAvailable");
    put_msg(&st, 6, &cond);
    put_msg(&d, 1, &meta);
    put_msg(&d, 2, &ds);
    put_msg(&d, 3, &st);
    snprintf(spec, sizeof spec,
             "{\"replicas\":0,\"selector\":%s,\"template\":%s,\"strategy\":{\"type\":"
             "\"RollingUpdate\",\"rollingUpdate\":{\"maxUnavailable\":\"25%%\",\"maxSurge\":1}},"
             "\"minReadySeconds\":5,\"revisionHistoryLimit\":10,\"paused\":true,"
             "\"progressDeadlineSeconds\":600}",
             WEB_SELECTOR_JSON, WEB_TEMPLATE_JSON);
    expect_workload(&d, "apps/v1", "Deployment", spec,
                    "{\"replicas\":2,\"conditions\":[{\"type\":\"Available\",\"status\":\"True\","
                    "\"lastUpdateTime\":\"2023-11-14T22:13:20Z\",\"reason\":"
                    "\"MinimumReplicasAvailable\"}]}");

    /* StatefulSet: volumeClaimTemplates with a Quantity, partition 0 kept, ordinals */
    enc_t s = {0}, ss = {0}, pvc = {0}, pvcm = {0}, pvcs = {0}, res = {0}, us = {0}, rus = {0};
    enc_t ret = {0}, ord = {0};
    named_meta(&pvcm, "data");
    put_str(&pvcs, 1, "ReadWriteOnce");
    put_qty_map(&res, 2, "storage", "1Gi");
    put_msg(&pvcs, 2, &res);
    put_str(&pvcs, 5, "");
    put_msg(&pvc, 1, &pvcm);
    put_msg(&pvc, 2, &pvcs);
    put_uint(&rus, 1, 0);
    put_int_or_string(&rus, 2, 0, 2, NULL);
    put_str(&us, 1, "RollingUpdate");
    put_msg(&us, 2, &rus);
    put_str(&ret, 1, "Retain");
    put_str(&ret, 2, "Delete");
    put_uint(&ord, 1, 0);
    put_uint(&ss, 1, 3);
    put_msg(&ss, 2, &sel);
    put_msg(&ss, 3, &tmpl);
    put_msg(&ss, 4, &pvc);
    put_str(&ss, 5, "db");
    put_str(&ss, 6, "Parallel");
    put_msg(&ss, 7, &us);
    put_uint(&ss, 9, 0); /* minReadySeconds 0: omitempty */
    put_msg(&ss, 10, &ret);
    put_msg(&ss, 11, &ord);
    put_msg(&s, 1, &meta);
    put_msg(&s, 2, &ss);
    snprintf(spec, sizeof spec,
             "{\"replicas\":3,\"selector\":%s,\"template\":%s,\"volumeClaimTemplates\":[{"
             "\"metadata\":{\"name\":\"data\"},\"spec\":{\"accessModes\":[\"ReadWriteOnce\"],"
             "\"resources\":{\"requests\":{\"storage\":\"1Gi\"}},\"storageClassName\":\"\"}}],"
             "\"serviceName\":\"db\",\"podManagementPolicy\":\"Parallel\",\"updateStrategy\":{"
             "\"type\":\"RollingUpdate\",\"rollingUpdate\":{\"partition\":0,\"maxUnavailable\":2}},"
             "\"persistentVolumeClaimRetentionPolicy\":{\"whenDeleted\":\"Retain\",\"whenScaled\":"
             "\"Delete\"},\"ordinals\":{\"start\":0}}",
             WEB_SELECTOR_JSON, WEB_TEMPLATE_JSON);
    put_msg(&s, 3, &(enc_t){0});
    expect_workload(&s, "apps/v1", "StatefulSet", spec, "{}");

    /* DaemonSet and ReplicaSet */
    enc_t dm = {0}, dms = {0}, dus = {0};
    put_str(&dus, 1, "OnDelete");
    put_msg(&dms, 1, &sel);
    put_msg(&dms, 2, &tmpl);
    put_msg(&dms, 3, &dus);
    put_uint(&dms, 4, 7);
    put_uint(&dms, 6, 0);
    put_msg(&dm, 1, &meta);
    put_msg(&dm, 2, &dms);
    put_msg(&dm, 3, &(enc_t){0});
    snprintf(spec, sizeof spec,
             "{\"selector\":%s,\"template\":%s,\"updateStrategy\":{\"type\":\"OnDelete\"},"
             "\"minReadySeconds\":7,\"revisionHistoryLimit\":0}",
             WEB_SELECTOR_JSON, WEB_TEMPLATE_JSON);
    expect_workload(&dm, "apps/v1", "DaemonSet", spec, "{}");

    enc_t rs = {0}, rss = {0};
    put_uint(&rss, 1, 2);
    put_uint(&rss, 4, 0);
    put_msg(&rss, 2, &sel);
    put_msg(&rss, 3, &tmpl);
    put_msg(&rs, 1, &meta);
    put_msg(&rs, 2, &rss);
    put_msg(&rs, 3, &(enc_t){0});
    snprintf(spec, sizeof spec, "{\"replicas\":2,\"selector\":%s,\"template\":%s}",
             WEB_SELECTOR_JSON, WEB_TEMPLATE_JSON);
    expect_workload(&rs, "apps/v1", "ReplicaSet", spec, "{}");
}

static void put_metric_target(enc_t *e, unsigned field, const char *type, unsigned qfield,
                              const char *q, int64_t utilization)
{
    enc_t t = {0};
    put_str(&t, 1, type);
    if (q)
        put_quantity(&t, qfield, q);
    else
        put_uint(&t, 4, (uint64_t)utilization);
    put_msg(e, field, &t);
}

static void test_cron_job_and_hpa(void)
{
    enc_t meta = {0}, tmpl = {0};
    named_meta(&meta, "web");
    web_template(&tmpl);
    char spec[4096];

    /* CronJob: *int64 0 and *bool false are kept, jobTemplate carries a JobSpec */
    enc_t cj = {0}, cs = {0}, jt = {0}, jm = {0}, js = {0};
    put_map(&jm, 11, "l", "v", 1);
    put_uint(&js, 2, 1);
    put_msg(&js, 6, &tmpl);
    put_msg(&jt, 1, &jm);
    put_msg(&jt, 2, &js);
    put_str(&cs, 1, "*/5 * * * *");
    put_str(&cs, 8, "Etc/UTC");
    put_uint(&cs, 2, 0);
    put_str(&cs, 3, "Forbid");
    put_uint(&cs, 4, 0);
    put_msg(&cs, 5, &jt);
    put_uint(&cs, 6, 3);
    put_uint(&cs, 7, 1);
    put_msg(&cj, 1, &meta);
    put_msg(&cj, 2, &cs);
    snprintf(spec, sizeof spec,
             "{\"schedule\":\"*/5 * * * *\",\"timeZone\":\"Etc/UTC\",\"startingDeadlineSeconds\":0,"
             "\"concurrencyPolicy\":\"Forbid\",\"suspend\":false,\"jobTemplate\":{\"metadata\":{"
             "\"labels\":{\"l\":\"v\"}},\"spec\":{\"completions\":1,\"template\":%s}},"
             "\"successfulJobsHistoryLimit\":3,\"failedJobsHistoryLimit\":1}",
             WEB_TEMPLATE_JSON);
    put_msg(&cj, 3, &(enc_t){0});
    expect_workload(&cj, "batch/v1", "CronJob", spec, "{}");

    /* HPA v2: every metric source kind kubectl users write, and a behavior */
    enc_t h = {0}, hs = {0}, ref = {0}, m1 = {0}, m2 = {0}, m3 = {0}, m4 = {0};
    enc_t pods = {0}, obj = {0}, ext = {0}, cres = {0}, id = {0}, idsel = {0}, dobj = {0};
    enc_t beh = {0}, down = {0}, pol = {0};
    put_str(&ref, 1, "Deployment");
    put_str(&ref, 2, "web");
    put_str(&ref, 3, "apps/v1");
    put_map(&idsel, 1, "queue", "q1", 2);
    put_str(&id, 1, "rps");
    put_msg(&id, 2, &idsel);
    put_msg(&pods, 1, &id);
    put_metric_target(&pods, 2, "AverageValue", 3, "100", 0);
    put_str(&m1, 1, "Pods");
    put_msg(&m1, 3, &pods);
    put_str(&dobj, 1, "Ingress");
    put_str(&dobj, 2, "main");
    put_str(&dobj, 3, "networking.k8s.io/v1");
    put_msg(&obj, 1, &dobj);
    put_metric_target(&obj, 2, "Value", 2, "10k", 0);
    id.n = 0;
    put_str(&id, 1, "hits");
    put_msg(&obj, 3, &id);
    put_str(&m2, 1, "Object");
    put_msg(&m2, 2, &obj);
    id.n = 0;
    put_str(&id, 1, "queue_depth");
    put_msg(&ext, 1, &id);
    put_metric_target(&ext, 2, "Value", 2, "30", 0);
    put_str(&m3, 1, "External");
    put_msg(&m3, 5, &ext);
    put_str(&cres, 1, "memory");
    put_metric_target(&cres, 2, "Utilization", 0, NULL, 60);
    put_str(&cres, 3, "app");
    put_str(&m4, 1, "ContainerResource");
    put_msg(&m4, 7, &cres);
    put_str(&pol, 1, "Percent");
    put_uint(&pol, 2, 10);
    put_uint(&pol, 3, 60);
    put_uint(&down, 3, 300);
    put_str(&down, 1, "Min");
    put_msg(&down, 2, &pol);
    put_msg(&beh, 2, &down);
    put_msg(&hs, 1, &ref);
    put_uint(&hs, 2, 1);
    put_uint(&hs, 3, 10);
    put_msg(&hs, 4, &m1);
    put_msg(&hs, 4, &m2);
    put_msg(&hs, 4, &m3);
    put_msg(&hs, 4, &m4);
    put_msg(&hs, 5, &beh);
    put_msg(&h, 1, &meta);
    put_msg(&h, 2, &hs);
    put_msg(&h, 3, &(enc_t){0});
    expect_workload(
        &h, "autoscaling/v2", "HorizontalPodAutoscaler",
        "{\"scaleTargetRef\":{\"kind\":\"Deployment\",\"name\":\"web\",\"apiVersion\":\"apps/v1\"},"
        "\"minReplicas\":1,\"maxReplicas\":10,\"metrics\":[{\"type\":\"Pods\",\"pods\":{\"metric\":"
        "{\"name\":\"rps\",\"selector\":{\"matchLabels\":{\"queue\":\"q1\"}}},\"target\":{\"type\":"
        "\"AverageValue\",\"averageValue\":\"100\"}}},{\"type\":\"Object\",\"object\":{"
        "\"describedObject\":{\"kind\":\"Ingress\",\"name\":\"main\",\"apiVersion\":"
        "\"networking.k8s.io/v1\"},\"target\":{\"type\":\"Value\",\"value\":\"10k\"},\"metric\":{"
        "\"name\":\"hits\"}}},{\"type\":\"External\",\"external\":{\"metric\":{\"name\":"
        "\"queue_depth\"},\"target\":{\"type\":\"Value\",\"value\":\"30\"}}},{\"type\":"
        "\"ContainerResource\",\"containerResource\":{\"name\":\"memory\",\"target\":{\"type\":"
        "\"Utilization\",\"averageUtilization\":60},\"container\":\"app\"}}],\"behavior\":{"
        "\"scaleDown\":{\"stabilizationWindowSeconds\":300,\"selectPolicy\":\"Min\",\"policies\":"
        "[{\"type\":\"Percent\",\"value\":10,\"periodSeconds\":60}]}}}",
        /* an empty status on the wire: non-omitempty fields Go's client would have
         * written (currentReplicas, desiredReplicas: see the autoscale captures) are
         * not made up */
        "{}");
}

static void test_value_types(void)
{
    enc_t meta = {0}, raw = {0}, env = {0}, spec = {0}, sc = {0}, packed = {0}, c = {0};
    named_meta(&meta, "p");

    /* supplementalGroups packed (proto3 style) and unpacked decode alike; a negative
     * int64 survives */
    put_varint(&packed, 1);
    put_varint(&packed, 3000000000u);
    put_bytes(&sc, 4, packed.b, packed.n);
    put_uint(&sc, 4, 7);
    put_uint(&sc, 2, (uint64_t)-5);
    put_str(&c, 1, "c");
    put_msg(&spec, 2, &c);
    put_msg(&spec, 14, &sc);
    put_msg(&raw, 1, &meta);
    put_msg(&raw, 2, &spec);
    envelope(&env, "v1", "Pod", &raw);
    expect_json(decode(&env), "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":"
                              "\"p\"},\"spec\":{\"containers\":[{\"name\":\"c\"}],"
                              "\"securityContext\":{\"supplementalGroups\":[1,3000000000,7],"
                              "\"runAsUser\":-5}}}");

    /* inline: a Volume's source and a Probe's handler land beside their siblings */
    enc_t vol = {0}, vsrc = {0}, cmv = {0}, lref = {0}, probe = {0}, handler = {0}, tcp = {0};
    put_str(&lref, 1, "cfg");
    put_msg(&cmv, 1, &lref);
    put_uint(&cmv, 3, 0420);
    put_msg(&vsrc, 19, &cmv);
    put_str(&vol, 1, "v");
    put_msg(&vol, 2, &vsrc);
    put_int_or_string(&tcp, 1, 1, 0, "http");
    put_msg(&handler, 3, &tcp);
    put_msg(&probe, 1, &handler);
    put_uint(&probe, 4, 0); /* periodSeconds 0: omitempty */
    c.n = 0;
    put_str(&c, 1, "c");
    put_msg(&c, 10, &probe);
    spec.n = raw.n = 0;
    put_msg(&spec, 1, &vol);
    put_msg(&spec, 2, &c);
    put_msg(&raw, 1, &meta);
    put_msg(&raw, 2, &spec);
    envelope(&env, "v1", "Pod", &raw);
    expect_json(decode(&env), "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":"
                              "\"p\"},\"spec\":{\"volumes\":[{\"name\":\"v\",\"configMap\":{"
                              "\"name\":\"cfg\",\"defaultMode\":272}}],\"containers\":[{\"name\":"
                              "\"c\",\"livenessProbe\":{\"tcpSocket\":{\"port\":\"http\"}}}]}}");

    /* ResourceQuota: a Quantity map; an empty Quantity or a bare string is refused */
    enc_t qs = {0}, entry = {0};
    put_qty_map(&qs, 1, "cpu", "500m");
    put_qty_map(&qs, 1, "requests.memory", "1Gi");
    raw.n = 0;
    put_msg(&raw, 1, &meta);
    put_msg(&raw, 2, &qs);
    envelope(&env, "v1", "ResourceQuota", &raw);
    expect_json(decode(&env), "{\"apiVersion\":\"v1\",\"kind\":\"ResourceQuota\",\"metadata\":{"
                              "\"name\":\"p\"},\"spec\":{\"hard\":{\"cpu\":\"500m\","
                              "\"requests.memory\":\"1Gi\"}}}");
    put_str(&entry, 1, "cpu");
    put_msg(&entry, 2, &(enc_t){0});
    qs.n = 0;
    put_msg(&qs, 1, &entry);
    raw.n = 0;
    put_msg(&raw, 2, &qs);
    envelope(&env, "v1", "ResourceQuota", &raw);
    CHECK(!decode(&env) && strstr(err, "empty Quantity"));
    entry.n = qs.n = raw.n = 0;
    put_str(&entry, 1, "cpu");
    put_str(&entry, 2, "1Gi"); /* not a message: '1' reads as a fixed64 key */
    put_msg(&qs, 1, &entry);
    put_msg(&raw, 2, &qs);
    envelope(&env, "v1", "ResourceQuota", &raw);
    CHECK(!decode(&env) && strstr(err, "malformed Quantity"));

    /* a packed run whose last varint does not end inside the run is refused */
    raw.n = spec.n = sc.n = 0;
    put_varint(&sc, 4 << 3 | 2);
    put_varint(&sc, 2);
    sc.b[sc.n++] = 0x80;
    sc.b[sc.n++] = 0x80;
    put_msg(&spec, 14, &sc);
    put_msg(&raw, 2, &spec);
    envelope(&env, "v1", "Pod", &raw);
    CHECK(!decode(&env) && strstr(err, "malformed varint"));
}

/* metav1.Time / MicroTime {1 seconds, 2 nanos} */
static void put_time(enc_t *e, unsigned field, int64_t seconds, int32_t nanos)
{
    enc_t t = {0};
    put_uint(&t, 1, (uint64_t)seconds);
    put_uint(&t, 2, (uint64_t)(int64_t)nanos);
    put_msg(e, field, &t);
}

/* A Lease as kubelets renew it: MicroTime keeps microseconds (Go's RFC3339Micro),
 * nanos below a microsecond are cut, a negative nanos borrows from the seconds as
 * Go's time.Unix does, and a Time beside it keeps whole seconds. */
static void test_lease_microtime(void)
{
    enc_t meta = {0}, raw = {0}, env = {0}, spec = {0};
    named_meta(&meta, "n1");
    put_str(&spec, 1, "n1");
    put_uint(&spec, 2, 40);
    put_time(&spec, 3, 1700000000, 123456789);
    put_time(&spec, 4, 1700000000, -1000);
    put_uint(&spec, 5, 0); /* *int32 set to 0: kept */
    put_msg(&raw, 1, &meta);
    put_msg(&raw, 2, &spec);
    envelope(&env, "coordination.k8s.io/v1", "Lease", &raw);
    expect_json(decode(&env), "{\"apiVersion\":\"coordination.k8s.io/v1\",\"kind\":\"Lease\","
                              "\"metadata\":{\"name\":\"n1\"},\"spec\":{\"holderIdentity\":"
                              "\"n1\",\"leaseDurationSeconds\":40,\"acquireTime\":"
                              "\"2023-11-14T22:13:20.123456Z\",\"renewTime\":"
                              "\"2023-11-14T22:13:19.999999Z\",\"leaseTransitions\":0}}");

    /* events.k8s.io/v1: eventTime is a MicroTime, deprecatedFirstTimestamp a Time */
    enc_t ev = {0}, ref = {0};
    put_str(&ref, 1, "Pod");
    put_str(&ref, 3, "web");
    put_msg(&ev, 1, &meta);
    put_time(&ev, 2, 1700000000, 5000);
    put_str(&ev, 4, "kubelet");
    put_msg(&ev, 8, &ref);
    put_time(&ev, 13, 1700000000, 999999999);
    put_uint(&ev, 15, 3);
    envelope(&env, "events.k8s.io/v1", "Event", &ev);
    expect_json(decode(&env), "{\"apiVersion\":\"events.k8s.io/v1\",\"kind\":\"Event\","
                              "\"metadata\":{\"name\":\"n1\"},\"eventTime\":"
                              "\"2023-11-14T22:13:20.000005Z\",\"reportingController\":"
                              "\"kubelet\",\"regarding\":{\"kind\":\"Pod\",\"name\":\"web\"},"
                              "\"deprecatedFirstTimestamp\":\"2023-11-14T22:13:20Z\","
                              "\"deprecatedCount\":3}");

    /* past year 9999 is refused, as for a Time */
    spec.n = raw.n = 0;
    put_time(&spec, 4, 253402300799LL, 1000000000);
    put_msg(&raw, 2, &spec);
    envelope(&env, "coordination.k8s.io/v1", "Lease", &raw);
    CHECK(!decode(&env) && strstr(err, "time out of range"));
}

/* ControllerRevision.data is a RawExtension whose raw bytes are JSON. */
static void test_raw_extension(void)
{
    enc_t meta = {0}, raw = {0}, env = {0}, data = {0};
    named_meta(&meta, "web-5d8");
    put_str(&data, 1, "{\"spec\":{\"template\":{\"$patch\":\"replace\"}}}");
    put_msg(&raw, 1, &meta);
    put_msg(&raw, 2, &data);
    put_uint(&raw, 3, 0); /* revision has no omitempty */
    envelope(&env, "apps/v1", "ControllerRevision", &raw);
    expect_json(decode(&env), "{\"apiVersion\":\"apps/v1\",\"kind\":\"ControllerRevision\","
                              "\"metadata\":{\"name\":\"web-5d8\"},\"data\":{\"spec\":{"
                              "\"template\":{\"$patch\":\"replace\"}}},\"revision\":0}");
    data.n = raw.n = 0;
    put_str(&data, 1, "\x0a\x03" "abc"); /* an object nested as protobuf: not guessed at */
    put_msg(&raw, 2, &data);
    envelope(&env, "apps/v1", "ControllerRevision", &raw);
    CHECK(!decode(&env) && strstr(err, "RawExtension is not JSON"));
    data.n = raw.n = 0;
    put_msg(&raw, 2, &data); /* empty: omitted */
    envelope(&env, "apps/v1", "ControllerRevision", &raw);
    expect_json(decode(&env), "{\"apiVersion\":\"apps/v1\",\"kind\":\"ControllerRevision\"}");
}

/* A Node's oddities (DaemonEndpoint's capitalised Port, taints, a ResourceList in
 * status) and a PersistentVolume's inline source, shared with a Pod's volumes. */
static void test_node_and_pv(void)
{
    enc_t meta = {0}, raw = {0}, env = {0}, spec = {0}, taint = {0}, status = {0};
    enc_t port = {0}, eps = {0}, addr = {0};
    named_meta(&meta, "n1");
    put_str(&spec, 7, "10.244.1.0/24");
    put_str(&taint, 1, "dedicated");
    put_str(&taint, 3, "NoSchedule");
    put_msg(&spec, 5, &taint);
    put_uint(&spec, 4, 1);
    put_qty_map(&status, 1, "cpu", "4");
    put_str(&addr, 1, "InternalIP");
    put_str(&addr, 2, "10.0.0.5");
    put_msg(&status, 5, &addr);
    put_uint(&port, 1, 10250);
    put_msg(&eps, 1, &port);
    put_msg(&status, 6, &eps);
    put_msg(&raw, 1, &meta);
    put_msg(&raw, 2, &spec);
    put_msg(&raw, 3, &status);
    envelope(&env, "v1", "Node", &raw);
    expect_json(decode(&env), "{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"metadata\":{"
                              "\"name\":\"n1\"},\"spec\":{\"podCIDRs\":[\"10.244.1.0/24\"],"
                              "\"taints\":[{\"key\":\"dedicated\",\"effect\":\"NoSchedule\"}],"
                              "\"unschedulable\":true},\"status\":{\"capacity\":{\"cpu\":"
                              "\"4\"},\"addresses\":[{\"type\":\"InternalIP\",\"address\":"
                              "\"10.0.0.5\"}],\"daemonEndpoints\":{\"kubeletEndpoint\":{"
                              "\"Port\":10250}}}}");

    enc_t nfs = {0}, src = {0};
    put_str(&nfs, 1, "nfs.example");
    put_str(&nfs, 2, "/export");
    /* the PersistentVolumeSource is field 2 of the spec, holding nfs at 5 */
    put_msg(&src, 5, &nfs);
    spec.n = raw.n = 0;
    put_qty_map(&spec, 1, "storage", "10Gi");
    put_msg(&spec, 2, &src);
    put_str(&spec, 3, "ReadWriteMany");
    put_msg(&raw, 1, &meta);
    put_msg(&raw, 2, &spec);
    envelope(&env, "v1", "PersistentVolume", &raw);
    expect_json(decode(&env), "{\"apiVersion\":\"v1\",\"kind\":\"PersistentVolume\","
                              "\"metadata\":{\"name\":\"n1\"},\"spec\":{\"capacity\":{"
                              "\"storage\":\"10Gi\"},\"nfs\":{\"server\":\"nfs.example\","
                              "\"path\":\"/export\"},\"accessModes\":[\"ReadWriteMany\"]}}");
}

static void test_malformed(void)
{
    enc_t meta = {0}, cm = {0}, env = {0};
    put_str(&meta, 1, "x");
    put_msg(&cm, 1, &meta);
    envelope(&env, "v1", "ConfigMap", &cm);
    json_t *ok = decode(&env);
    CHECK(ok);
    json_decref(ok);
    /* every truncation of a valid body fails cleanly or decodes a prefix, never crashes */
    for (size_t n = 0; n < env.n; n++) {
        json_t *v = tri_protobuf_decode(env.b, n, err, sizeof err);
        json_decref(v);
    }
    CHECK(!tri_protobuf_decode("k8s", 3, err, sizeof err) && strstr(err, "k8s"));
    CHECK(!tri_protobuf_decode("{\"a\":1}", 7, err, sizeof err));
    /* raw length past the end */
    enc_t bad = {0};
    memcpy(bad.b, "k8s\0\x12\x50\x0a", 7);
    bad.n = 7;
    CHECK(!decode(&bad) && strstr(err, "malformed"));
    /* an 11-byte varint */
    enc_t raw = {0};
    put_varint(&raw, 7 << 3);
    memset(raw.b + raw.n, 0xff, 10);
    raw.n += 10;
    raw.b[raw.n++] = 0x01;
    envelope(&env, "v1", "ConfigMap", &raw);
    CHECK(!decode(&env) && strstr(err, "invalid protobuf"));
    /* wire type mismatch: metadata as a varint */
    raw.n = 0;
    put_uint(&raw, 1, 5);
    envelope(&env, "v1", "ConfigMap", &raw);
    CHECK(!decode(&env) && strstr(err, "wire type mismatch"));
    /* a group wire type */
    raw.n = 0;
    put_varint(&raw, 9 << 3 | 3);
    envelope(&env, "v1", "ConfigMap", &raw);
    CHECK(!decode(&env) && strstr(err, "invalid field key"));
    /* invalid UTF-8 in a string */
    raw.n = 0;
    meta.n = 0;
    put_bytes(&meta, 1, "\xff\xfe", 2);
    put_msg(&raw, 1, &meta);
    envelope(&env, "v1", "ConfigMap", &raw);
    CHECK(!decode(&env) && strstr(err, "UTF-8"));
    /* contentEncoding is refused */
    enc_t tm = {0};
    put_str(&tm, 1, "v1");
    put_str(&tm, 2, "ConfigMap");
    env.n = 4;
    put_msg(&env, 1, &tm);
    put_str(&env, 3, "gzip");
    CHECK(!decode(&env) && strstr(err, "contentEncoding"));
    /* JSON raw with a JSON contentType */
    env.n = 4;
    put_msg(&env, 1, &tm);
    put_str(&env, 2, "{\"data\":{\"a\":\"b\"}}");
    put_str(&env, 4, "application/json");
    expect_json(decode(&env), "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"data\":{\"a\":"
                              "\"b\"}}");
}

int main(void)
{
    test_real_bodies();
    test_captured();
    test_pod_copy();
    test_supported();
    test_workloads();
    test_cron_job_and_hpa();
    test_value_types();
    test_handmade();
    test_lease_microtime();
    test_raw_extension();
    test_node_and_pv();
    test_malformed();
    printf("codec_protobuf: all tests passed\n");
    return 0;
}
