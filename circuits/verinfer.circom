pragma circom 2.1.6;

// Hand-written gadgets of verinfer's fixed-point semantics. Generated model circuits (src/circuits/codegen.ts)
// include this file; the integer reference in src/models/integer-forward.ts computes the same integers.
//
// Soundness rules followed here: every value assigned with `<--` is pinned by constraints that admit exactly
// one solution, every range is proven with bits (never with `assert`), and no expression can wrap the field
// because every range below is far smaller than p (~2^253.6).

include "bitify.circom";
include "poseidon.circom";

// Proves 0 <= in < 2^n. The bits themselves are not needed by the caller, only their existence.
template RangeCheck(n) {
    signal input in;
    component bits = Num2Bits(n);
    bits.in <== in;
    _ <== bits.out;
}

// Signed floor division by 2^s: in = q * 2^s + r, 0 <= r < 2^s, -2^(B-1) <= q < 2^(B-1).
// Why this pins q: the pairs (q, r) allowed by the two range checks map one-to-one onto the 2^(B+s)
// consecutive integers [-2^(B-1+s), 2^(B-1+s)), and 2^(B+s) < p, so no two pairs meet the same `in`
// modulo p. `nonNegative` is the top bit of q + 2^(B-1), proven boolean by Num2Bits, equal to 1 iff q >= 0.
// Generated layers write the s > 0 case inline with the same equations (src/circuits/layer-templates.ts,
// rescaleInline), so that circom has no linear constraint to eliminate; a change here must be made there too.
template Rescale(s, B) {
    assert(B >= 2 && s >= 0 && s + B <= 250); // template parameters only: checked at compile time
    signal input in;
    signal output out;
    signal output nonNegative;

    var offset = 2 ** (B - 1 + s);
    signal r;
    out <-- ((in + offset) \ (2 ** s)) - 2 ** (B - 1);
    r <-- (in + offset) % (2 ** s);
    in === out * (2 ** s) + r;

    if (s > 0) {
        component rRange = RangeCheck(s);
        rRange.in <== r;
    } else {
        r === 0;
    }

    component qBits = Num2Bits(B);
    qBits.in <== out + 2 ** (B - 1);
    for (var i = 0; i < B - 1; i++) {
        _ <== qBits.out[i];
    }
    nonNegative <== qBits.out[B - 1];
}

// relu(floor(in / 2^s)); out = q * [q >= 0] with the sign bit proven by Rescale. One constraint more than
// Rescale, and out lies in [0, 2^(B-1)).
template RescaleRelu(s, B) {
    signal input in;
    signal output out;
    component rs = Rescale(s, B);
    rs.in <== in;
    out <== rs.out * rs.nonNegative;
}

// Rescale(s, B) that also hands out the B bits of u = q + 2^(B-1), lowest first, for gadgets that read q's bits.
// The same constraints as Rescale (see there why they pin q); a template of its own so that circuits built with
// Rescale keep their exact shape.
template RescaleBits(s, B) {
    assert(B >= 2 && s >= 0 && s + B <= 250); // template parameters only: checked at compile time
    signal input in;
    signal output out;
    signal output bits[B];

    var offset = 2 ** (B - 1 + s);
    signal r;
    out <-- ((in + offset) \ (2 ** s)) - 2 ** (B - 1);
    r <-- (in + offset) % (2 ** s);
    in === out * (2 ** s) + r;

    if (s > 0) {
        component rRange = RangeCheck(s);
        rRange.in <== r;
    } else {
        r === 0;
    }

    component qBits = Num2Bits(B);
    qBits.in <== out + 2 ** (B - 1);
    bits <== qBits.out;
}

// relu6 of floor(in / 2^s) at the output's scale: min(max(q, 0), C) with C = floor(6 * 2^outFracBits).
// t = RescaleRelu(s, B) lies in [0, 2^(B-1)); min(t, C) = t - relu(t - C), and t - C lies in
// [-C, 2^(B-1) - C) ⊂ [-2^(B-1), 2^(B-1)) for 0 <= C, so RescaleRelu(0, B) pins relu(t - C) (its Num2Bits proves
// the range and the sign, its remainder is 0). When C >= 2^(B-1) - 1 no t exceeds C and the clamp is the identity.
// B + 1 constraints more than RescaleRelu when it clamps, none otherwise; out lies in [0, min(C, 2^(B-1) - 1)].
template RescaleRelu6(s, B, C) {
    assert(C >= 0);
    signal input in;
    signal output out;
    component t = RescaleRelu(s, B);
    t.in <== in;
    if (C >= 2 ** (B - 1) - 1) {
        out <== t.out;
    } else {
        component over = RescaleRelu(0, B);
        over.in <== t.out - C;
        out <== t.out - over.out;
    }
}

// LeakyReLU with slope 2^-k on q = floor(in / 2^s): out = q for q >= 0, floor(q / 2^k) below. floor(q / 2^k) is
// linear in the bits b_i of u = q + 2^(B-1): floor(q / 2^k) = floor(u / 2^k) - 2^(B-1-k) = sum_{i>=k} b_i 2^(i-k)
// - 2^(B-1-k) for k <= B - 1 (2^k divides 2^(B-1)). For k > B - 1 every negative q gives -1, which is the same
// sum at k = B - 1 (b_(B-1) - 1). The sign bit b_(B-1) = [q >= 0], pinned by Num2Bits, selects: one constraint
// more than Rescale, and out lies in [-2^(B-1-min(k, B-1)), 2^(B-1)).
template RescaleLeakyRelu(s, B, k) {
    assert(k >= 1);
    signal input in;
    signal output out;
    component rs = RescaleBits(s, B);
    rs.in <== in;
    var kk = k < B - 1 ? k : B - 1;
    var shifted = 0;
    for (var i = 0; i < kk; i++) {
        _ <== rs.bits[i]; // the bits below 2^k are dropped by the floor
    }
    for (var i = kk; i < B; i++) {
        shifted += rs.bits[i] * 2 ** (i - kk);
    }
    shifted -= 2 ** (B - 1 - kk);
    out <== shifted + rs.bits[B - 1] * (rs.out - shifted);
}

// Packs n values, each of which the caller has proven to lie in [0, 2^width), into ceil(n / k) field
// elements of k = floor(253 / width) values each. Binding: a packed element is sum(v_t * 2^(t*width)) < 2^253
// < p, so it never wraps and distinct in-range vectors give distinct elements. Linear: no constraints of its own
// once circom --O2 folds it into the hash inputs.
template Pack(n, width) {
    assert(width >= 1 && width <= 253);
    var k = 253 \ width;
    var m = (n + k - 1) \ k;
    signal input in[n];
    signal output out[m];
    for (var c = 0; c < m; c++) {
        var acc = 0;
        var e = 1;
        for (var t = 0; t < k; t++) {
            if (c * k + t < n) {
                acc += in[c * k + t] * e;
                e *= 2 ** width;
            }
        }
        out[c] <== acc;
    }
}

// Poseidon over any number of elements, 16 at a time: h = P(in[0..16]), then h = P(h, next 15) until done.
// circomlibjs computes the same chain outside (src/attest/commitments.ts).
template PoseidonChain(n) {
    assert(n >= 1);
    signal input in[n];
    signal output out;
    var first = n < 16 ? n : 16;
    var nChunks = n <= 16 ? 1 : 1 + (n - 16 + 14) \ 15;
    component h[nChunks];
    h[0] = Poseidon(first);
    for (var i = 0; i < first; i++) {
        h[0].inputs[i] <== in[i];
    }
    var pos = first;
    for (var c = 1; c < nChunks; c++) {
        var k = n - pos < 15 ? n - pos : 15;
        h[c] = Poseidon(k + 1);
        h[c].inputs[0] <== h[c - 1].out;
        for (var i = 0; i < k; i++) {
            h[c].inputs[i + 1] <== in[pos + i];
        }
        pos += k;
    }
    out <== h[nChunks - 1].out;
}

// The header that domain-separates a vector commitment, as a constant: tag "vec1" (32 bits) | width (8) |
// n (32) | lo + 2^127 (128), lowest bit first — 200 bits, below p. src/attest/commitments.ts computes the same
// number (vectorCommitmentHeader). Hashed first, it makes equal commitments mean equal vectors under an equal
// (length, width, offset): a vector padded with lo, or one read at another width, commits differently, and a
// prefix of a longer chain is never the whole chain of a shorter vector.
function vectorHeader(n, width, lo) {
    return 0x76656331 + width * 2 ** 32 + n * 2 ** 40 + (lo + 2 ** 127) * 2 ** 72;
}

// Salted commitment to n values v_i = x_i - lo already proven to lie in [0, 2^width):
// PoseidonChain(header(n, width, lo), salt, Pack(v)). The salt is a private input, so a low-entropy vector
// cannot be recovered by hashing guesses.
template PackedCommitment(n, width, lo) {
    assert(n >= 1 && n < 2 ** 32);
    assert(lo >= -(2 ** 127) && lo < 2 ** 127);
    var k = 253 \ width;
    var m = (n + k - 1) \ k;
    signal input in[n];
    signal input salt;
    signal output out;
    component pack = Pack(n, width);
    pack.in <== in;
    component hash = PoseidonChain(m + 2);
    hash.in[0] <== vectorHeader(n, width, lo);
    hash.in[1] <== salt;
    for (var c = 0; c < m; c++) {
        hash.in[c + 2] <== pack.out[c];
    }
    out <== hash.out;
}

// Commitment to a private vector of signed values in [lo, lo + 2^width): each value is range-checked here
// (that is what makes the packing binding), then committed with the salt.
template RangeCheckedCommitment(n, width, lo) {
    signal input in[n];
    signal input salt;
    signal output out;
    component range[n];
    component commit = PackedCommitment(n, width, lo);
    for (var i = 0; i < n; i++) {
        range[i] = RangeCheck(width);
        range[i].in <== in[i] - lo;
        commit.in[i] <== in[i] - lo;
    }
    commit.salt <== salt;
    out <== commit.out;
}

// max(a, b) = b + relu(a - b), for a - b in [-2^(B-1), 2^(B-1)) (the caller's interval analysis guarantees it for
// honest values; any other difference has no witness). RescaleRelu(0, B) pins relu(a - b) completely: its
// Num2Bits proves the range and the sign bit, and with s = 0 its remainder is 0. B + 1 constraints.
template Max2(B) {
    signal input a;
    signal input b;
    signal output out;
    component d = RescaleRelu(0, B);
    d.in <== a - b;
    out <== b + d.out;
}

// The maximum of k >= 2 values as a running maximum in index order: m_0 = in[0], m_i = Max2(in[i], m_(i-1)).
// Each step is pinned by its Max2, so out is the maximum. (k - 1)(B + 1) constraints: cheaper than proving
// m >= in[i] for every i plus a product of differences, k·B + k - 1.
template MaxOf(k, B) {
    assert(k >= 2);
    signal input in[k];
    signal output out;
    signal run[k];
    component step[k - 1];
    run[0] <== in[0];
    for (var i = 1; i < k; i++) {
        step[i - 1] = Max2(B);
        step[i - 1].a <== in[i];
        step[i - 1].b <== run[i - 1];
        run[i] <== step[i - 1].out;
    }
    out <== run[k - 1];
}

// The index of the largest of n >= 2 values, the lowest index among equal maxima: index i replaces the running
// best only when in[i] - best - 1 >= 0 (strictly larger). The sign bit of that difference comes from
// Rescale(0, B), which proves the difference lies in [-2^(B-1), 2^(B-1)) and pins the bit; best and idx are then
// products of pinned signals. B + 2 constraints per step.
template ArgMax(n, B) {
    assert(n >= 2);
    signal input in[n];
    signal output out;
    signal best[n];
    signal idx[n];
    component gt[n - 1];
    best[0] <== in[0];
    idx[0] <== 0;
    for (var i = 1; i < n; i++) {
        gt[i - 1] = Rescale(0, B);
        gt[i - 1].in <== in[i] - best[i - 1] - 1;
        _ <== gt[i - 1].out;
        best[i] <== best[i - 1] + gt[i - 1].nonNegative * (in[i] - best[i - 1]);
        idx[i] <== idx[i - 1] + gt[i - 1].nonNegative * (i - idx[i - 1]);
    }
    out <== idx[n - 1];
}
