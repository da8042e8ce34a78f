// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {Strings} from "@openzeppelin/contracts/utils/Strings.sol";

/// @title InferenceRegistry
/// @notice Registry of verinfer models and of inferences verified for them, by a proof (Groth16, PLONK or FFLONK,
/// snarkjs's verifiers) checked here or by
/// an EAS off-chain attestation (Version 2, EIP-712) signed by one of the model's trusted attesters.
///
/// A model is known by its model key, `keccak256(abi.encode(owner, modelCommitment, verifier))`, which is derived,
/// never chosen. The model commitment alone cannot identify a model on chain: it is public (it is in every receipt),
/// and any circuit can emit it as a constant first public signal, so a verifier of a forged circuit accepts proofs
/// that "the committed model" produced whatever its author wants. Registering is therefore open to anyone and never
/// collides: each (owner, commitment, verifier) gets a key of its own, so the honest owner can always register, and
/// two different verifiers never share a model key or a record key.
///
/// A record is keyed by what it states — keccak256(modelKey, inputCommitment, outputCommitment) — and never by proof
/// bytes: Groth16 proofs are malleable, so a key derived from the proof would let anyone record the same statement
/// twice with a re-randomised proof.
///
/// WHAT A CONSUMING CONTRACT MUST CHECK. Trust a model key, never a model commitment or a record found by events:
///  1. Fix the model key you trust, once, from the three things it hashes, each of which you have audited: the owner
///     (the account that manages the model's attesters), the model commitment (the model you mean: verinfer
///     recomputes it from the network), and the verifier (whose runtime bytecode is snarkjs's verifier of that
///     model's vkey: verinfer's `verifierMatchesVkey`). `modelKeyOf(owner, commitment, verifier)` computes it; it
///     is not enough that `getModel(key)` names the commitment you expect, since anyone can register it with a
///     verifier of their own.
///  2. Read the record under that key: `isVerified(modelKey, inputCommitment, outputCommitment)` for a proof checked
///     here, or `getInference(...)` and its `kind` (`Attested` means signed by an attester the owner trusted at
///     submission time; removing an attester later does not remove its records).
///  3. To use the output values, check them against the record's `outputHash` (see `Record`).
/// Anyone may register any commitment with any verifier and record whatever that verifier accepts, under its own
/// model key: such records exist, and are harmless only to a consumer that does step 1.
contract InferenceRegistry {
    /// @notice How a model's proofs are checked. `None`: attestations only, no verifier. Groth16 proofs come in
    /// through `submitProof`, PLONK and FFLONK proofs (24 words each) through `submitUniversalProof`.
    enum ProofSystem {
        None,
        Groth16,
        Plonk,
        Fflonk
    }

    /// @notice What backs a record. `Unknown` means "no record" (the zero value of an empty slot).
    enum Kind {
        Unknown,
        Attested,
        Verified
    }

    /// @notice A registered model, stored under its model key. Slot 1 (verifier, proof system) is what a proof
    /// needs first; the commitment is slot 3.
    struct Model {
        address verifier;
        ProofSystem proofSystem;
        address owner;
        uint256 modelCommitment;
    }

    /// @notice What other contracts read about one inference, in two slots. Slot 1 packs who, when and how
    /// (20 + 6 + 5 + 1 bytes); slot 2 is the output hash. Everything else is in the events.
    struct Record {
        /// Proofs: the account that submitted the proof. Attestations: the trusted attester that signed it.
        address submitter;
        uint48 blockNumber;
        uint40 timestamp;
        Kind kind;
        /// Verified: keccak256(abi.encodePacked(publicSignals[3:])), the proven outputs as field elements (negative
        /// values as p - |v|). Attested: the attestation's `outputHash`, keccak256(abi.encode(int256[] quantized,
        /// int256 fracBits)). They differ because fracBits is not a public signal, so the proof path cannot
        /// compute the attestation's hash on-chain.
        bytes32 outputHash;
    }

    /// @notice An EAS Version 2 off-chain attestation's signed message, field for field.
    struct OffchainAttestation {
        uint16 version;
        bytes32 schema;
        address recipient;
        uint64 time;
        uint64 expirationTime;
        bool revocable;
        bytes32 refUID;
        bytes data;
        bytes32 salt;
    }

    /// @notice BN254 scalar field size. Public signals are field elements; a value >= R is an alias of value - R.
    uint256 internal constant R = 21888242871839275222246405745257275088548364400416034343698204186575808495617;

    /// @notice UID of verinfer's INFERENCE_SCHEMA (no resolver, revocable) in the EAS SchemaRegistry.
    bytes32 public constant INFERENCE_SCHEMA_UID = 0x56df54f95d0feb145c2df892949f38abe153e9bf86d0183b538c39c9f32d83e6;

    bytes32 internal constant DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    bytes32 internal constant ATTEST_TYPEHASH = keccak256(
        "Attest(uint16 version,bytes32 schema,address recipient,uint64 time,uint64 expirationTime,bool revocable,bytes32 refUID,bytes data,bytes32 salt)"
    );

    /// @notice EIP-712 domain separator of the EAS deployment whose off-chain attestations this registry accepts.
    /// It names that EAS contract and chain, not this registry: the attestations are the ones EAS tools verify.
    bytes32 public immutable easDomainSeparator;

    mapping(bytes32 modelKey => Model) internal models;
    mapping(bytes32 modelKey => mapping(address attester => bool)) public isTrustedAttester;
    mapping(bytes32 key => Record) internal records;

    event ModelRegistered(
        bytes32 indexed modelKey,
        address indexed owner,
        uint256 indexed modelCommitment,
        address verifier,
        ProofSystem proofSystem
    );
    event AttesterSet(bytes32 indexed modelKey, address indexed attester, bool trusted);
    event InferenceVerified(
        bytes32 indexed modelKey,
        bytes32 indexed key,
        address indexed submitter,
        uint256 inputCommitment,
        uint256 outputCommitment,
        bytes32 outputHash
    );
    event InferenceAttested(
        bytes32 indexed modelKey,
        bytes32 indexed key,
        address indexed attester,
        uint256 inputCommitment,
        uint256 outputCommitment,
        bytes32 outputHash,
        bytes32 attestationDigest
    );
    /// @notice A proof was submitted for a statement that is already Verified, with the recorded outputs: nothing
    /// changed (the record keeps its first relayer as `submitter`). The submitted proof was not checked: the record
    /// already proves the statement. Emitted instead of reverting so that a relayer whose transaction was
    /// front-run (or raced) sees success and the reason, not a failure.
    event AlreadyVerified(bytes32 indexed modelKey, bytes32 indexed key, address indexed relayer);

    error ModelAlreadyRegistered(bytes32 modelKey);
    error ModelNotRegistered(bytes32 modelKey);
    error CommitmentOutOfField(uint256 modelCommitment);
    error UnsupportedProofSystem(uint8 proofSystem);
    error WrongProofSystem(bytes32 modelKey, ProofSystem registered);
    error VerifierNotContract(address verifier);
    error NotModelOwner(bytes32 modelKey, address caller);
    error NoVerifier(bytes32 modelKey);
    error TooFewPublicSignals(uint256 count);
    error SignalOutOfField(uint256 index);
    error WrongModelCommitment(uint256 expected, uint256 actual);
    error VerifierCallFailed(address verifier);
    error ProofRejected(bytes32 modelKey);
    error AlreadyRecorded(bytes32 key, Kind kind);
    error UnsupportedAttestationVersion(uint16 version);
    error WrongSchema(bytes32 schema);
    error AttestationExpired(uint64 expirationTime);
    error AttestationFromFuture(uint64 time);
    error InvalidSignature();
    error UntrustedAttester(bytes32 modelKey, address signer);
    error AttestationModelMismatch(bytes32 modelKey, bytes32 attestedModelId, uint256 attestedCommitment);

    /// @param easVersion EIP-712 domain version of the EAS deployment (e.g. "0.26" on Ethereum mainnet).
    /// @param easChainId Chain id in that domain: where the EAS deployment lives, which need not be this chain.
    /// @param easAddress The EAS contract (the domain's verifyingContract).
    constructor(string memory easVersion, uint256 easChainId, address easAddress) {
        easDomainSeparator = keccak256(
            abi.encode(
                DOMAIN_TYPEHASH, keccak256("EAS Attestation"), keccak256(bytes(easVersion)), easChainId, easAddress
            )
        );
    }

    // ------------------------------------------------------------------------------------------------------------
    // Models

    /// @notice Registers a model; the caller becomes its owner and the model is known by
    /// `modelKeyOf(msg.sender, modelCommitment, verifier)`. Open to anyone and never first come, first served: a
    /// registration by someone else, or with another verifier, has another key, and only its own owner can collide
    /// with it (`ModelAlreadyRegistered`). The verifier is part of the key and cannot change: a new verifier (new
    /// setup, new circuit) is a new model key.
    /// @param verifier The model's snarkjs verifier of `proofSystem` (Groth16, Plonk, Fflonk), or address(0) with
    /// `proofSystem` None (attestations only). Registering a verifier under the wrong system only makes every proof
    /// fail: the system picks the function called on it.
    function registerModel(uint256 modelCommitment, address verifier, uint8 proofSystem)
        external
        returns (bytes32 modelKey)
    {
        if (modelCommitment >= R) revert CommitmentOutOfField(modelCommitment);
        if (proofSystem > uint8(ProofSystem.Fflonk)) revert UnsupportedProofSystem(proofSystem);
        ProofSystem system = ProofSystem(proofSystem);
        // A verifier without code would make every staticcall "succeed" with empty return data.
        if (system != ProofSystem.None && verifier.code.length == 0) revert VerifierNotContract(verifier);
        if (system == ProofSystem.None && verifier != address(0)) revert VerifierNotContract(verifier);
        modelKey = modelKeyOf(msg.sender, modelCommitment, verifier);
        if (models[modelKey].owner != address(0)) revert ModelAlreadyRegistered(modelKey);
        models[modelKey] =
            Model({verifier: verifier, proofSystem: system, owner: msg.sender, modelCommitment: modelCommitment});
        emit ModelRegistered(modelKey, msg.sender, modelCommitment, verifier, system);
    }

    /// @notice The key a model registered by `owner` with this commitment and verifier has (or would have): what a
    /// consuming contract pins. `verifier` is address(0) for an attest-only model.
    function modelKeyOf(address owner, uint256 modelCommitment, address verifier) public pure returns (bytes32) {
        return keccak256(abi.encode(owner, modelCommitment, verifier));
    }

    /// @notice Adds or removes a trusted attester of a model. Owner only.
    function setAttester(bytes32 modelKey, address attester, bool trusted) external {
        address owner = models[modelKey].owner;
        if (owner == address(0)) revert ModelNotRegistered(modelKey);
        if (owner != msg.sender) revert NotModelOwner(modelKey, msg.sender);
        isTrustedAttester[modelKey][attester] = trusted;
        emit AttesterSet(modelKey, attester, trusted);
    }

    /// @notice A registered model, or a zero struct. Naming the expected commitment does not make a model the one
    /// you mean: check its key (owner and verifier included), see the contract's notice.
    function getModel(bytes32 modelKey) external view returns (Model memory) {
        return models[modelKey];
    }

    // ------------------------------------------------------------------------------------------------------------
    // Proofs

    /// @notice Records an inference proven by a Groth16 proof, in snarkjs's Solidity calldata layout (pi_b with
    /// each coordinate pair swapped). Public signals: model commitment, input commitment, output commitment,
    /// quantized outputs. Reverts (never returns false) when the proof does not verify; a duplicate of a Verified
    /// statement is not verified again (see below).
    /// The proof is checked by the model key's own verifier and recorded under that key only: a proof of another
    /// circuit that emits the same commitment is rejected here (`ProofRejected`) and can only ever be recorded
    /// under a key naming its own verifier.
    /// @dev A proof for a statement that is only Attested (under the same model key) upgrades the record to
    /// Verified. A second submission of a Verified statement with the recorded outputs is a successful no-op that
    /// emits `AlreadyVerified` and returns the key: the proof is not verified again (the record already proves the
    /// statement) and the record, its `submitter` included, does not change. One whose outputs differ from the
    /// record's reverts with AlreadyRecorded (a sound circuit cannot prove two outputs for one output commitment).
    function submitProof(
        bytes32 modelKey,
        uint256[2] calldata a,
        uint256[2][2] calldata b,
        uint256[2] calldata c,
        uint256[] calldata publicSignals
    ) external returns (bytes32 key) {
        address verifier;
        (verifier,, key) = _beginProof(modelKey, publicSignals, false);
        if (verifier == address(0)) return key;
        (uint256 answer, bytes32 outputHash) = _verifyGroth16(verifier, a, publicSignals);
        _endProof(modelKey, key, verifier, answer, outputHash, publicSignals);
    }

    /// @notice Records an inference proven by a PLONK or FFLONK proof, in the calldata layout of snarkjs's verifier
    /// of the model's registered system (`exportSolidityCallData`: 24 words, then the public signals), with the same
    /// checks and record as `submitProof`. Reverts with WrongProofSystem for a model registered as Groth16 or None.
    function submitUniversalProof(bytes32 modelKey, uint256[24] calldata proof, uint256[] calldata publicSignals)
        external
        returns (bytes32 key)
    {
        address verifier;
        ProofSystem system;
        (verifier, system, key) = _beginProof(modelKey, publicSignals, true);
        if (verifier == address(0)) return key;
        (uint256 answer, bytes32 outputHash) = _verifyUniversal(verifier, system, proof, publicSignals);
        _endProof(modelKey, key, verifier, answer, outputHash, publicSignals);
    }

    /// @dev What every proof needs before its verifier runs: a registered verifier of the submission's kind
    /// (`universal`: PLONK or FFLONK, else Groth16), canonical signals, the key's commitment. For a statement
    /// already Verified it handles the duplicate (see `submitProof`) and returns verifier address(0): the caller
    /// returns the key without calling the verifier.
    function _beginProof(bytes32 modelKey, uint256[] calldata publicSignals, bool universal)
        internal
        returns (address verifier, ProofSystem system, bytes32 key)
    {
        Model storage model = models[modelKey];
        verifier = model.verifier;
        system = model.proofSystem;
        if (verifier == address(0)) {
            if (model.owner == address(0)) revert ModelNotRegistered(modelKey);
            revert NoVerifier(modelKey);
        }
        if (universal ? system == ProofSystem.Groth16 : system != ProofSystem.Groth16) {
            revert WrongProofSystem(modelKey, system);
        }
        uint256 n = publicSignals.length;
        if (n < 3) revert TooFewPublicSignals(n);
        // The snarkjs >= 0.7.5 verifier rejects these too; checking here as well keeps the record keys canonical
        // even if a model registers an older verifier without the check.
        uint256 bad = _firstOutOfField(publicSignals);
        if (bad < n) revert SignalOutOfField(bad);
        uint256 commitment = model.modelCommitment;
        if (publicSignals[0] != commitment) revert WrongModelCommitment(commitment, publicSignals[0]);

        key = recordKey(modelKey, publicSignals[1], publicSignals[2]);
        Record storage record = records[key];
        if (record.kind == Kind.Verified) {
            if (_outputHash(publicSignals) != record.outputHash) revert AlreadyRecorded(key, Kind.Verified);
            emit AlreadyVerified(modelKey, key, msg.sender);
            verifier = address(0);
        }
    }

    /// @dev keccak256(abi.encodePacked(publicSignals[3:])), the Verified record's output hash, for a duplicate
    /// (a first proof hashes the verifier call's copy instead). Needs publicSignals.length >= 3.
    function _outputHash(uint256[] calldata publicSignals) internal pure returns (bytes32 outputHash) {
        assembly ("memory-safe") {
            let m := mload(0x40)
            let size := shl(5, sub(publicSignals.length, 3))
            calldatacopy(m, add(publicSignals.offset, 0x60), size)
            outputHash := keccak256(m, size)
        }
    }

    /// @dev Stores a Verified record once the verifier accepted.
    function _endProof(
        bytes32 modelKey,
        bytes32 key,
        address verifier,
        uint256 answer,
        bytes32 outputHash,
        uint256[] calldata publicSignals
    ) internal {
        if (answer == 2) revert VerifierCallFailed(verifier);
        // The verifier answers false both for a wrong proof and when a precompile ran out of gas; either way
        // nothing may be recorded, so the transaction reverts and the caller can retry with more gas.
        if (answer != 1) revert ProofRejected(modelKey);
        _store(key, msg.sender, Kind.Verified, outputHash);
        // The outputs themselves stay in the transaction's calldata (publicSignals[3:]); the event carries only
        // their hash: logging them again would cost 8 gas a byte for data anyone can read from the transaction.
        emit InferenceVerified(modelKey, key, msg.sender, publicSignals[1], publicSignals[2], outputHash);
    }

    /// @dev snarkjs's PLONK verifier has `verifyProof(uint256[24],uint256[n])`, its FFLONK verifier
    /// `verifyProof(bytes32[24],uint256[n])`; the call is built as in `_verifyGroth16`: selector, the 24 proof words,
    /// the n signals, back to back.
    function _verifyUniversal(
        address verifier,
        ProofSystem system,
        uint256[24] calldata proof,
        uint256[] calldata publicSignals
    ) internal view returns (uint256 answer, bytes32 outputHash) {
        bytes4 selector = bytes4(
            keccak256(
                abi.encodePacked(
                    system == ProofSystem.Plonk ? "verifyProof(uint256[24],uint256[" : "verifyProof(bytes32[24],uint256[",
                    Strings.toString(publicSignals.length),
                    "])"
                )
            )
        );
        assembly ("memory-safe") {
            let input := mload(0x40)
            mstore(input, selector)
            calldatacopy(add(input, 0x04), proof, 0x300)
            let size := shl(5, publicSignals.length)
            calldatacopy(add(input, 0x304), publicSignals.offset, size)
            answer := 2
            if staticcall(gas(), verifier, input, add(0x304, size), 0x00, 0x20) {
                if eq(returndatasize(), 0x20) { answer := mload(0x00) }
            }
            outputHash := keccak256(add(input, 0x364), sub(size, 0x60))
        }
    }

    /// @dev The index of the first public signal that is not a field element, or publicSignals.length if none.
    /// Assembly because the checked loop costs several times as much per signal, and the gas of submitProof
    /// above the bare verifier call has a budget (60k).
    function _firstOutOfField(uint256[] calldata publicSignals) internal pure returns (uint256 index) {
        assembly ("memory-safe") {
            let n := publicSignals.length
            index := n
            for { let i := 0 } lt(i, n) { i := add(i, 1) } {
                if iszero(lt(calldataload(add(publicSignals.offset, shl(5, i))), R)) {
                    index := i
                    break
                }
            }
        }
    }

    /// @notice The selector of snarkjs's `verifyProof(uint256[2],uint256[2][2],uint256[2],uint256[n])`, the function
    /// a Groth16 verifier of a circuit with n public signals has.
    /// @dev Hashes the signature written straight into memory: the bytes of abi.encodePacked(prefix,
    /// OpenZeppelin Strings.toString(n), "])") for about a third of their gas (~475 gas less per proof).
    function verifyProofSelector(uint256 n) public pure returns (bytes4 selector) {
        assembly ("memory-safe") {
            let m := mload(0x40)
            // The 56-byte prefix "verifyProof(uint256[2],uint256[2][2],uint256[2],uint256[".
            mstore(m, "verifyProof(uint256[2],uint256[2")
            mstore(add(m, 0x20), "][2],uint256[2],uint256[")
            let digits := 1
            for { let t := n } gt(t, 9) { t := div(t, 10) } { digits := add(digits, 1) }
            let end := add(add(m, 56), digits)
            let p := end
            for { let t := n } 1 {} {
                p := sub(p, 1)
                mstore8(p, add(48, mod(t, 10)))
                t := div(t, 10)
                if iszero(t) { break }
            }
            mstore8(end, 0x5d) // "]"
            mstore8(add(end, 1), 0x29) // ")"
            selector := and(keccak256(m, add(58, digits)), shl(224, 0xffffffff))
        }
    }

    /// @dev snarkjs's verifier takes its public signals as a fixed-size `uint[N] calldata`, so its selector depends
    /// on N. Building the call here for N = publicSignals.length keeps one registry for every circuit size with no
    /// per-model adapter: the calldata of a static array is its elements in place, so the call's arguments are the
    /// proof and the signals copied back to back. A verifier for another N has no such function and the call fails.
    /// `proof` is submitProof's `a`: a, b and c are consecutive static parameters, so the ABI lays them out as 8
    /// words in a row from there, in the order the verifier takes them. Also returns the record's output hash,
    /// keccak256 of the signals after the three commitments, hashed from the call's copy (one copy, not two).
    /// @return answer The verifier's answer: 1 accepts, anything else rejects; 2 when the call itself failed.
    function _verifyGroth16(address verifier, uint256[2] calldata proof, uint256[] calldata publicSignals)
        internal
        view
        returns (uint256 answer, bytes32 outputHash)
    {
        bytes4 selector = verifyProofSelector(publicSignals.length);
        // Temporary memory past the free pointer, never read after this block: memory-safe.
        assembly ("memory-safe") {
            let input := mload(0x40)
            mstore(input, selector)
            calldatacopy(add(input, 0x04), proof, 0x100)
            let size := shl(5, publicSignals.length)
            calldatacopy(add(input, 0x104), publicSignals.offset, size)
            answer := 2
            if staticcall(gas(), verifier, input, add(0x104, size), 0x00, 0x20) {
                if eq(returndatasize(), 0x20) { answer := mload(0x00) }
            }
            outputHash := keccak256(add(input, 0x164), sub(size, 0x60))
        }
    }

    // ------------------------------------------------------------------------------------------------------------
    // Attestations

    /// @notice Records an inference vouched for by an EAS Version 2 off-chain attestation of INFERENCE_SCHEMA,
    /// signed by a trusted attester of the model key (attesters are per key, set by its owner). The attested model
    /// commitment must be the key's. Anyone may relay it. Off-chain revocation on EAS is not checked.
    /// @param v,r,s The attestation's signature (`sig.signature`); v in {27, 28}, s in the lower half order.
    function submitAttestation(
        bytes32 modelKey,
        OffchainAttestation calldata attestation,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external returns (bytes32 key) {
        if (models[modelKey].owner == address(0)) revert ModelNotRegistered(modelKey);
        (address signer, bytes32 digest) = _checkAttestation(modelKey, attestation, v, r, s);
        return _recordAttestation(modelKey, attestation.data, signer, digest);
    }

    /// @dev Everything about the attestation except its data: version, schema, validity window, signature, trust.
    function _checkAttestation(bytes32 modelKey, OffchainAttestation calldata attestation, uint8 v, bytes32 r, bytes32 s)
        internal
        view
        returns (address signer, bytes32 digest)
    {
        if (attestation.version != 2) revert UnsupportedAttestationVersion(attestation.version);
        if (attestation.schema != INFERENCE_SCHEMA_UID) revert WrongSchema(attestation.schema);
        // EAS treats an attestation as expired from its expirationTime on.
        if (attestation.expirationTime != 0 && block.timestamp >= attestation.expirationTime) {
            revert AttestationExpired(attestation.expirationTime);
        }
        // Five minutes of clock skew between the attester and the chain, as verinfer's off-chain check allows.
        if (attestation.time > block.timestamp + 300) revert AttestationFromFuture(attestation.time);

        digest = attestationDigest(attestation);
        // OpenZeppelin's tryRecover rejects s in the upper half order (the malleable twin of a signature) and
        // yields the zero address for a v other than 27 or 28, so one attestation has one accepted signature.
        ECDSA.RecoverError err;
        (signer, err,) = ECDSA.tryRecover(digest, v, r, s);
        if (err != ECDSA.RecoverError.NoError || signer == address(0)) revert InvalidSignature();
        if (!isTrustedAttester[modelKey][signer]) revert UntrustedAttester(modelKey, signer);
    }

    /// @dev Decodes INFERENCE_SCHEMA data (mode and backend are not needed on-chain) and stores the record.
    function _recordAttestation(bytes32 modelKey, bytes calldata data, address signer, bytes32 digest)
        internal
        returns (bytes32 key)
    {
        (bytes32 attestedModelId, uint256 attestedCommitment, uint256 inputCommitment, uint256 outputCommitment,
            bytes32 outputHash,,) = abi.decode(data, (bytes32, uint256, uint256, uint256, bytes32, string, string));
        // verinfer's off-chain model id is the commitment as 32 bytes; an attestation naming another id, or another
        // commitment, is not about this model.
        uint256 commitment = models[modelKey].modelCommitment;
        if (attestedCommitment != commitment || attestedModelId != bytes32(commitment)) {
            revert AttestationModelMismatch(modelKey, attestedModelId, attestedCommitment);
        }
        key = recordKey(modelKey, inputCommitment, outputCommitment);
        Kind existing = records[key].kind;
        // An attestation never replaces anything: not a proof, and not another attestation.
        if (existing != Kind.Unknown) revert AlreadyRecorded(key, existing);
        _store(key, signer, Kind.Attested, outputHash);
        emit InferenceAttested(modelKey, key, signer, inputCommitment, outputCommitment, outputHash, digest);
    }

    /// @notice The EIP-712 digest an EAS Version 2 off-chain attestation's signature signs, in this registry's EAS
    /// domain.
    function attestationDigest(OffchainAttestation calldata attestation) public view returns (bytes32) {
        bytes32 structHash = keccak256(
            abi.encode(
                ATTEST_TYPEHASH,
                attestation.version,
                attestation.schema,
                attestation.recipient,
                attestation.time,
                attestation.expirationTime,
                attestation.revocable,
                attestation.refUID,
                keccak256(attestation.data),
                attestation.salt
            )
        );
        return keccak256(abi.encodePacked("\x19\x01", easDomainSeparator, structHash));
    }

    // ------------------------------------------------------------------------------------------------------------
    // Records

    /// @notice The key of a record: what it states (under which model key), never how it was proven.
    function recordKey(bytes32 modelKey, uint256 inputCommitment, uint256 outputCommitment)
        public
        pure
        returns (bytes32)
    {
        return keccak256(abi.encode(modelKey, inputCommitment, outputCommitment));
    }

    /// @notice The record of one inference under a model key; `kind == Unknown` when there is none.
    function getInference(bytes32 modelKey, uint256 inputCommitment, uint256 outputCommitment)
        external
        view
        returns (Record memory)
    {
        return records[recordKey(modelKey, inputCommitment, outputCommitment)];
    }

    /// @notice Whether a proof of this inference was verified here by the verifier of `modelKey`
    /// (attestations do not count). Only as meaningful as the model key: see the contract's notice.
    function isVerified(bytes32 modelKey, uint256 inputCommitment, uint256 outputCommitment)
        external
        view
        returns (bool)
    {
        return records[recordKey(modelKey, inputCommitment, outputCommitment)].kind == Kind.Verified;
    }

    function _store(bytes32 key, address submitter, Kind kind, bytes32 outputHash) internal {
        // One struct assignment, so the optimizer writes the packed first slot once instead of field by field.
        records[key] = Record({
            submitter: submitter,
            blockNumber: uint48(block.number),
            timestamp: uint40(block.timestamp),
            kind: kind,
            outputHash: outputHash
        });
    }
}
