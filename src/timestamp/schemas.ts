import '../x509/reflect-polyfill.js';
import {
  AsnArray,
  AsnIntegerArrayBufferConverter,
  AsnProp,
  AsnPropTypes,
  AsnType,
  AsnTypeTypes,
  OctetString,
} from '@peculiar/asn1-schema';
import {
  Attribute,
  DigestAlgorithmIdentifier,
  DigestAlgorithmIdentifiers,
  EncapsulatedContentInfo,
  RevocationInfoChoices,
  SignatureAlgorithmIdentifier,
  SignerIdentifier,
} from '@peculiar/asn1-cms';
import { AlgorithmIdentifier, GeneralName, PolicyInformation } from '@peculiar/asn1-x509';

/*
 * ASN.1 schemas the @peculiar packages do not provide, declared with @peculiar/asn1-schema.
 * Decorators are applied as plain calls because the project compiles without
 * `experimentalDecorators`; the effect is the same as the `@AsnProp` syntax.
 *
 * Two asn1-cms types are re-declared so that the exact bytes needed for verification survive
 * parsing: the signed attributes of a SignerInfo (RFC 5652 §5.4: the signature covers their DER
 * with the [0] IMPLICIT tag replaced by SET) and each embedded certificate (trust is decided by
 * byte equality with a trust-store certificate).
 */

/** SignedAttributes ::= SET SIZE (1..MAX) OF Attribute (RFC 5652 §5.3). */
export class SignedAttributesSet extends AsnArray<Attribute> {
  constructor(items?: Attribute[]) {
    super(items);
    Object.setPrototypeOf(this, SignedAttributesSet.prototype);
  }
}
AsnType({ type: AsnTypeTypes.Set, itemType: Attribute })(SignedAttributesSet);

/** SignerInfo (RFC 5652 §5.3) keeping the raw [0] signed-attributes element. */
export class RawSignerInfo {
  version = 0;
  sid = new SignerIdentifier();
  digestAlgorithm = new DigestAlgorithmIdentifier();
  signedAttrs: SignedAttributesSet | undefined = undefined;
  /** The DER of the `[0] IMPLICIT SignedAttributes` element, tag included, as received. */
  signedAttrsRaw: ArrayBuffer | undefined = undefined;
  signatureAlgorithm = new SignatureAlgorithmIdentifier();
  signature = new OctetString();
  unsignedAttrs: Attribute[] | undefined = undefined;
}
AsnProp({ type: AsnPropTypes.Integer })(RawSignerInfo.prototype, 'version');
AsnProp({ type: SignerIdentifier })(RawSignerInfo.prototype, 'sid');
AsnProp({ type: DigestAlgorithmIdentifier })(RawSignerInfo.prototype, 'digestAlgorithm');
AsnProp({ type: SignedAttributesSet, context: 0, implicit: true, optional: true, raw: true })(
  RawSignerInfo.prototype,
  'signedAttrs',
);
AsnProp({ type: SignatureAlgorithmIdentifier })(RawSignerInfo.prototype, 'signatureAlgorithm');
AsnProp({ type: OctetString })(RawSignerInfo.prototype, 'signature');
AsnProp({ type: Attribute, repeated: 'set', context: 1, implicit: true, optional: true })(
  RawSignerInfo.prototype,
  'unsignedAttrs',
);

export class RawSignerInfos extends AsnArray<RawSignerInfo> {
  constructor(items?: RawSignerInfo[]) {
    super(items);
    Object.setPrototypeOf(this, RawSignerInfos.prototype);
  }
}
AsnType({ type: AsnTypeTypes.Set, itemType: RawSignerInfo })(RawSignerInfos);

/** CertificateSet (RFC 5652 §10.2.3) with every choice kept as its raw DER. */
export class RawCertificateSet extends AsnArray<ArrayBuffer> {
  constructor(items?: ArrayBuffer[]) {
    super(items);
    Object.setPrototypeOf(this, RawCertificateSet.prototype);
  }
}
AsnType({ type: AsnTypeTypes.Set, itemType: AsnPropTypes.Any })(RawCertificateSet);

/** SignedData (RFC 5652 §5.1) with raw certificates and raw signed attributes. */
export class RawSignedData {
  version = 0;
  digestAlgorithms = new DigestAlgorithmIdentifiers();
  encapContentInfo = new EncapsulatedContentInfo();
  certificates: RawCertificateSet | undefined = undefined;
  crls: RevocationInfoChoices | undefined = undefined;
  signerInfos = new RawSignerInfos();
}
AsnProp({ type: AsnPropTypes.Integer })(RawSignedData.prototype, 'version');
AsnProp({ type: DigestAlgorithmIdentifiers })(RawSignedData.prototype, 'digestAlgorithms');
AsnProp({ type: EncapsulatedContentInfo })(RawSignedData.prototype, 'encapContentInfo');
AsnProp({ type: RawCertificateSet, context: 0, implicit: true, optional: true })(
  RawSignedData.prototype,
  'certificates',
);
AsnProp({ type: RevocationInfoChoices, context: 1, implicit: true, optional: true })(RawSignedData.prototype, 'crls');
AsnProp({ type: RawSignerInfos })(RawSignedData.prototype, 'signerInfos');

/** IssuerSerial ::= SEQUENCE { issuer GeneralNames, serialNumber CertificateSerialNumber } (RFC 5035). */
export class IssuerSerial {
  issuer: GeneralName[] = [];
  serialNumber = new ArrayBuffer(0);
}
AsnProp({ type: GeneralName, repeated: 'sequence' })(IssuerSerial.prototype, 'issuer');
AsnProp({ type: AsnPropTypes.Integer, converter: AsnIntegerArrayBufferConverter })(
  IssuerSerial.prototype,
  'serialNumber',
);

/**
 * ESSCertIDv2 ::= SEQUENCE {
 *   hashAlgorithm AlgorithmIdentifier DEFAULT {algorithm id-sha256},
 *   certHash      OCTET STRING,
 *   issuerSerial  IssuerSerial OPTIONAL }            -- RFC 5035 §4
 */
export class EssCertIdV2 {
  hashAlgorithm: AlgorithmIdentifier | undefined = undefined;
  certHash = new OctetString();
  issuerSerial: IssuerSerial | undefined = undefined;
}
AsnProp({ type: AlgorithmIdentifier, optional: true })(EssCertIdV2.prototype, 'hashAlgorithm');
AsnProp({ type: OctetString })(EssCertIdV2.prototype, 'certHash');
AsnProp({ type: IssuerSerial, optional: true })(EssCertIdV2.prototype, 'issuerSerial');

/**
 * SigningCertificateV2 ::= SEQUENCE {
 *   certs    SEQUENCE OF ESSCertIDv2,
 *   policies SEQUENCE OF PolicyInformation OPTIONAL } -- RFC 5035 §3
 */
export class SigningCertificateV2 {
  certs: EssCertIdV2[] = [];
  policies: PolicyInformation[] | undefined = undefined;
}
AsnProp({ type: EssCertIdV2, repeated: 'sequence' })(SigningCertificateV2.prototype, 'certs');
AsnProp({ type: PolicyInformation, repeated: 'sequence', optional: true })(SigningCertificateV2.prototype, 'policies');

/** A bare OBJECT IDENTIFIER value, e.g. of the content-type attribute (RFC 5652 §11.1). */
export class ObjectIdentifierValue {
  value = '';
}
AsnProp({ type: AsnPropTypes.ObjectIdentifier })(ObjectIdentifierValue.prototype, 'value');
AsnType({ type: AsnTypeTypes.Choice })(ObjectIdentifierValue);

/**
 * RSASSA-PSS-params (RFC 4055 §3.1); defaults (SHA-1, MGF1-SHA-1, salt 20) are decoded as absent
 * and rejected by the caller, since SHA-1 is not accepted.
 */
export class RsaPssParams {
  hashAlgorithm: AlgorithmIdentifier | undefined = undefined;
  maskGenAlgorithm: AlgorithmIdentifier | undefined = undefined;
  saltLength: number | undefined = undefined;
  trailerField: number | undefined = undefined;
}
AsnProp({ type: AlgorithmIdentifier, context: 0, optional: true })(RsaPssParams.prototype, 'hashAlgorithm');
AsnProp({ type: AlgorithmIdentifier, context: 1, optional: true })(RsaPssParams.prototype, 'maskGenAlgorithm');
AsnProp({ type: AsnPropTypes.Integer, context: 2, optional: true })(RsaPssParams.prototype, 'saltLength');
AsnProp({ type: AsnPropTypes.Integer, context: 3, optional: true })(RsaPssParams.prototype, 'trailerField');
