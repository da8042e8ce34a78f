// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {Strings} from "@openzeppelin/contracts/utils/Strings.sol";

/// @title InferenceRegistry
/// @notice Registry of verinfer models and of inferences verified for them, by a Groth16 proof checked here or by
/// an EAS off-chain attestation (Version 2, EIP-712) signed by one of the model's trusted attesters.
///
/// A record is keyed by what it states — keccak256(modelId, inputCommitment, outputCommitment) — and never by proof
/// bytes: Groth16 proofs are malleable, so a key derived from the proof would let anyone record the same statement
/// twice with a re-randomised proof.
contract InferenceRegistry {
    /// @notice How a model's proofs are checked. `None`: attestations only, no verifier.
    enum ProofSystem {
        None,
        Groth16
    }

    /// @notice What backs a record. `Unknown` means "no record" (the zero value of an empty slot).
    enum Kind {
        Unknown,
        Attested,
        Verified
    }

    /// @notice A registered model. The model commitment is not stored: it IS the model id (`uint256(modelId)`).
    struct Model {
        address owner;
        ProofSystem proofSystem;
        address verifier;
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

    mapping(bytes32 modelId => Model) internal models;
    mapping(bytes32 modelId => mapping(address attester => bool)) public isTrustedAttester;
    mapping(bytes32 key => Record) internal records;

    event ModelRegistered(
        bytes32 indexed modelId, address indexed owner, address verifier, ProofSystem proofSystem
    );
    event AttesterSet(bytes32 indexed modelId, address indexed attester, bool trusted);
    event InferenceVerified(
        bytes32 indexed modelId,
        bytes32 indexed key,
        address indexed submitter,
        uint256 inputCommitment,
        uint256 outputCommitment,
        bytes32 outputHash
    );
    event InferenceAttested(
        bytes32 indexed modelId,
        bytes32 indexed key,
        address indexed attester,
        uint256 inputCommitment,
        uint256 outputCommitment,
        bytes32 outputHash,
        bytes32 attestationDigest
    );

    error ModelAlreadyRegistered(bytes32 modelId);
    error ModelNotRegistered(bytes32 modelId);
    error ModelIdMismatch(bytes32 modelId, uint256 modelCommitment);
    error CommitmentOutOfField(uint256 modelCommitment);
    error UnsupportedProofSystem(uint8 proofSystem);
    error VerifierNotContract(address verifier);
    error NotModelOwner(bytes32 modelId, address caller);
    error NoVerifier(bytes32 modelId);
    error TooFewPublicSignals(uint256 count);
    error SignalOutOfField(uint256 index);
    error WrongModelCommitment(uint256 expected, uint256 actual);
    error VerifierCallFailed(address verifier);
    error ProofRejected(bytes32 modelId);
    error AlreadyRecorded(bytes32 key, Kind kind);
    error UnsupportedAttestationVersion(uint16 version);
    error WrongSchema(bytes32 schema);
    error AttestationExpired(uint64 expirationTime);
    error AttestationFromFuture(uint64 time);
    error InvalidSignature();
    error UntrustedAttester(bytes32 modelId, address signer);
    error AttestationModelMismatch(bytes32 modelId, bytes32 attestedModelId, uint256 attestedCommitment);

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

    /// @notice Registers a model; the caller becomes its owner. Registration is first come, first served, but it
    /// cannot be squatted into lying: the id must be the commitment, and a Groth16 verifier only accepts proofs
    /// whose first public signal equals it (checked in submitProof).
    function registerModel(bytes32 modelId, uint256 modelCommitment, address verifier, uint8 proofSystem) external {
        // verinfer's model id is the model commitment as 32-byte hex; anything else would let one commitment
        // appear under several ids.
        if (modelId != bytes32(modelCommitment)) revert ModelIdMismatch(modelId, modelCommitment);
        if (modelCommitment >= R) revert CommitmentOutOfField(modelCommitment);
        if (models[modelId].owner != address(0)) revert ModelAlreadyRegistered(modelId);
        if (proofSystem > uint8(ProofSystem.Groth16)) revert UnsupportedProofSystem(proofSystem);
        ProofSystem system = ProofSystem(proofSystem);
        // A verifier without code would make every staticcall "succeed" with empty return data.
        if (system == ProofSystem.Groth16 && verifier.code.length == 0) revert VerifierNotContract(verifier);
        if (system == ProofSystem.None && verifier != address(0)) revert VerifierNotContract(verifier);
        models[modelId] = Model({owner: msg.sender, proofSystem: system, verifier: verifier});
        emit ModelRegistered(modelId, msg.sender, verifier, system);
    }

    /// @notice Adds or removes a trusted attester of a model. Owner only.
    function setAttester(bytes32 modelId, address attester, bool trusted) external {
        address owner = models[modelId].owner;
        if (owner == address(0)) revert ModelNotRegistered(modelId);
        if (owner != msg.sender) revert NotModelOwner(modelId, msg.sender);
        isTrustedAttester[modelId][attester] = trusted;
        emit AttesterSet(modelId, attester, trusted);
    }

    /// @notice A registered model, or a zero struct.
    function getModel(bytes32 modelId) external view returns (Model memory) {
        return models[modelId];
    }

    // ------------------------------------------------------------------------------------------------------------
    // Proofs

    /// @notice Records an inference proven by a Groth16 proof, in snarkjs's Solidity calldata layout (pi_b with
    /// each coordinate pair swapped). Public signals: model commitment, input commitment, output commitment,
    /// quantized outputs. Reverts (never returns false) when the proof does not verify.
    /// @dev A proof for a statement that is only Attested upgrades the record to Verified; a second proof of a
    /// Verified statement reverts with AlreadyRecorded, so replays cost the replayer and change nothing.
    function submitProof(
        bytes32 modelId,
        uint256[2] calldata a,
        uint256[2][2] calldata b,
        uint256[2] calldata c,
        uint256[] calldata publicSignals
    ) external returns (bytes32 key) {
        address verifier = models[modelId].verifier;
        if (verifier == address(0)) {
            if (models[modelId].owner == address(0)) revert ModelNotRegistered(modelId);
            revert NoVerifier(modelId);
        }
        uint256 n = publicSignals.length;
        if (n < 3) revert TooFewPublicSignals(n);
        // The snarkjs >= 0.7.5 verifier rejects these too; checking here as well keeps the record keys canonical
        // even if a model registers an older verifier without the check.
        for (uint256 i = 0; i < n; ++i) {
            if (publicSignals[i] >= R) revert SignalOutOfField(i);
        }
        if (publicSignals[0] != uint256(modelId)) revert WrongModelCommitment(uint256(modelId), publicSignals[0]);

        key = recordKey(modelId, publicSignals[1], publicSignals[2]);
        if (records[key].kind == Kind.Verified) revert AlreadyRecorded(key, Kind.Verified);

        _verifyGroth16(modelId, verifier, a, b, c, publicSignals);

        bytes32 outputHash = keccak256(abi.encodePacked(publicSignals[3:]));
        _store(key, msg.sender, Kind.Verified, outputHash);
        // The outputs themselves stay in the transaction's calldata (publicSignals[3:]); the event carries only
        // their hash: logging them again would cost 8 gas a byte for data anyone can read from the transaction.
        emit InferenceVerified(modelId, key, msg.sender, publicSignals[1], publicSignals[2], outputHash);
    }

    /// @dev snarkjs's verifier takes its public signals as a fixed-size `uint[N] calldata`, so its selector depends
    /// on N. Building the call here for N = publicSignals.length keeps one registry for every circuit size with no
    /// per-model adapter: the calldata of a static array is its elements in place, which is exactly what
    /// abi.encodePacked writes. A verifier for another N has no such function and the call fails.
    function _verifyGroth16(
        bytes32 modelId,
        address verifier,
        uint256[2] calldata a,
        uint256[2][2] calldata b,
        uint256[2] calldata c,
        uint256[] calldata publicSignals
    ) internal view {
        bytes4 selector = bytes4(
            keccak256(
                abi.encodePacked(
                    "verifyProof(uint256[2],uint256[2][2],uint256[2],uint256[",
                    Strings.toString(publicSignals.length),
                    "])"
                )
            )
        );
        (bool ok, bytes memory ret) =
            verifier.staticcall(abi.encodePacked(selector, a, b[0], b[1], c, publicSignals));
        if (!ok || ret.length != 32) revert VerifierCallFailed(verifier);
        // The verifier answers false both for a wrong proof and when a precompile ran out of gas; either way
        // nothing may be recorded, so the transaction reverts and the caller can retry with more gas.
        if (abi.decode(ret, (uint256)) != 1) revert ProofRejected(modelId);
    }

    // ------------------------------------------------------------------------------------------------------------
    // Attestations

    /// @notice Records an inference vouched for by an EAS Version 2 off-chain attestation of INFERENCE_SCHEMA,
    /// signed by a trusted attester of the model. Anyone may relay it. Off-chain revocation on EAS is not checked.
    /// @param v,r,s The attestation's signature (`sig.signature`); v in {27, 28}, s in the lower half order.
    function submitAttestation(
        bytes32 modelId,
        OffchainAttestation calldata attestation,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external returns (bytes32 key) {
        if (models[modelId].owner == address(0)) revert ModelNotRegistered(modelId);
        (address signer, bytes32 digest) = _checkAttestation(modelId, attestation, v, r, s);
        return _recordAttestation(modelId, attestation.data, signer, digest);
    }

    /// @dev Everything about the attestation except its data: version, schema, validity window, signature, trust.
    function _checkAttestation(bytes32 modelId, OffchainAttestation calldata attestation, uint8 v, bytes32 r, bytes32 s)
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
        if (!isTrustedAttester[modelId][signer]) revert UntrustedAttester(modelId, signer);
    }

    /// @dev Decodes INFERENCE_SCHEMA data (mode and backend are not needed on-chain) and stores the record.
    function _recordAttestation(bytes32 modelId, bytes calldata data, address signer, bytes32 digest)
        internal
        returns (bytes32 key)
    {
        (bytes32 attestedModelId, uint256 attestedCommitment, uint256 inputCommitment, uint256 outputCommitment,
            bytes32 outputHash,,) = abi.decode(data, (bytes32, uint256, uint256, uint256, bytes32, string, string));
        if (attestedModelId != modelId || attestedCommitment != uint256(modelId)) {
            revert AttestationModelMismatch(modelId, attestedModelId, attestedCommitment);
        }
        key = recordKey(modelId, inputCommitment, outputCommitment);
        Kind existing = records[key].kind;
        // An attestation never replaces anything: not a proof, and not another attestation.
        if (existing != Kind.Unknown) revert AlreadyRecorded(key, existing);
        _store(key, signer, Kind.Attested, outputHash);
        emit InferenceAttested(modelId, key, signer, inputCommitment, outputCommitment, outputHash, digest);
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

    /// @notice The key of a record: what it states, never how it was proven.
    function recordKey(bytes32 modelId, uint256 inputCommitment, uint256 outputCommitment)
        public
        pure
        returns (bytes32)
    {
        return keccak256(abi.encode(modelId, inputCommitment, outputCommitment));
    }

    /// @notice The record of one inference; `kind == Unknown` when there is none.
    function getInference(bytes32 modelId, uint256 inputCommitment, uint256 outputCommitment)
        external
        view
        returns (Record memory)
    {
        return records[recordKey(modelId, inputCommitment, outputCommitment)];
    }

    /// @notice Whether a Groth16 proof of this inference was verified here (attestations do not count).
    function isVerified(bytes32 modelId, uint256 inputCommitment, uint256 outputCommitment)
        external
        view
        returns (bool)
    {
        return records[recordKey(modelId, inputCommitment, outputCommitment)].kind == Kind.Verified;
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
