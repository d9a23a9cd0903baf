//! The one table of wire errors (`shared/spec/errors.md`): code, HTTP status and message
//! template. Every `ApiError` is built from a variant here; no handler writes a status or a
//! message by hand. `<…>` in a template is the single run-time argument.

/// Declares `ErrorCode` and its table in one place, so a code cannot exist without its status
/// and message.
macro_rules! catalogue {
    ($( $variant:ident => $status:literal, $wire:literal, $template:literal; )*) => {
        /// An error of the catalogue. The wire string contains dots, so it is stored explicitly.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorCode { $( $variant, )* }

        impl ErrorCode {
            /// Every code, in catalogue order.
            pub const ALL: &'static [ErrorCode] = &[ $( ErrorCode::$variant, )* ];

            /// The `Code` field as sent on the wire.
            pub fn wire(self) -> &'static str {
                match self { $( ErrorCode::$variant => $wire, )* }
            }

            /// The HTTP status the real service answers with.
            pub fn status(self) -> u16 {
                match self { $( ErrorCode::$variant => $status, )* }
            }

            /// The message, with at most one `<…>` placeholder.
            pub fn template(self) -> &'static str {
                match self { $( ErrorCode::$variant => $template, )* }
            }
        }
    };
}

catalogue! {
    // The encryption family (API pages of ModifyDiskDefaultKMSKeyId and siblings).
    CmkNotEnabled => 400, "InvalidParameter.KMSKeyId.CMKNotEnabled", "The CMK needs to be enabled.";
    EncryptedKmsNotEnabled => 400, "InvalidParameter.Encrypted.KmsNotEnabled", "KMS must be enabled for encrypted disks.";
    RegionNotSupport => 403, "Abs.InvalidAction.RegionNotSupport", "This region does not support this action.";
    RegionIdNotExists => 403, "InvalidParameter.RegionIdNotExists", "The specified region does not exists.";
    KmsUnauthorized => 403, "InvalidParameter.KMSKeyId.KMSUnauthorized", "ECS service have no right to access your KMS.";
    KmsKeyIdNotFound => 403, "InvalidOperation.KMSKeyIdNotFound", "The specified KMSKeyId not found, <KMSKeyId>.";
    KmsServiceNotOpen => 403, "InvalidOperation.KMSServiceNotOpen", "KMS service is currently not open.";
    UserNotInTheWhiteList => 403, "UserNotInTheWhiteList", "The user is not in disk white list.";
    DefaultEncryptionNotFound => 403, "InvalidDefaultEncryption.NotFound", "You have not configured default encryption setting in this region.";
    DefaultEncryptionAlreadyEnabled => 403, "InvalidOperation.DefaultEncryptionAlreadyEnabled", "The specified region is already default encryption settings.";
    CmkUnauthorized => 403, "InvalidParameter.KMSKeyId.CMKUnauthorized", "The CMK(Customer Master Key) lacks authorization to add tags to the ECS service.";
    KmsNotActivated => 400, "InvalidParameter.KmsNotEnabled", "Failed to perform this operation because KMS is not activated.";
    // DescribeRegions and DescribeZones (`disks.md` §2).
    InvalidRegionIdNotFound => 404, "InvalidRegionId.NotFound", "The specified RegionId does not exist.";
    InvalidInstanceChargeType => 404, "InvalidInstanceChargeType.NotFound", "The InstanceChargeType does not exist in our records.";
    InvalidSpotStrategy => 400, "InvalidSpotStrategy", "The specified SpotStrategy is not valid.";
    InvalidAcceptLanguage => 404, "InvalidAcceptLanguage.NotFound", "Only Chinese (zh-CN), English (en-US), and Japanese (ja) are allowed.";
    // Gateway and common errors.
    MissingParameter => 400, "MissingParameter", "The input parameter \"<Name>\" that is mandatory for processing this request is not supplied.";
    InvalidParameter => 400, "InvalidParameter", "The specified parameter \"<Name>\" is not valid.";
    InvalidVersion => 400, "InvalidVersion", "Specified parameter Version is not valid.";
    InvalidActionNotFound => 404, "InvalidAction.NotFound", "Specified api is not found, please check your url and method.";
    UnsupportedHttpMethod => 403, "UnsupportedHTTPMethod", "This HTTP method is not supported.";
    IncompleteSignature => 400, "IncompleteSignature", "The request signature does not conform to Alibaba Cloud standards.";
    SignatureDoesNotMatch => 400, "SignatureDoesNotMatch", "Specified signature is not matched with our calculation. server string to sign is:<StringToSign>";
    SignatureNonceUsed => 400, "SignatureNonceUsed", "Specified signature nonce was used already.";
    InvalidTimeStampFormat => 400, "InvalidTimeStamp.Format", "Specified time stamp or date value is not well formatted.";
    InvalidTimeStampExpired => 400, "InvalidTimeStamp.Expired", "Specified time stamp or date value is expired.";
    InvalidAccessKeyIdNotFound => 404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.";
    AccessKeyDisabled => 403, "Forbidden.AccessKeyDisabled", "The AccessKey is disabled.";
    MissingSecurityToken => 400, "MissingSecurityToken", "SecurityToken is mandatory for this action.";
    SecurityTokenMismatch => 400, "InvalidSecurityToken.Mismatch", "Specified SecurityToken mismatch with the AccessKey.";
    SecurityTokenExpired => 400, "InvalidSecurityToken.Expired", "Specified SecurityToken is expired.";
    ForbiddenRam => 403, "Forbidden.RAM", "User not authorized to operate on the specified resource, or this API doesn't support RAM.";
    Throttling => 400, "Throttling", "You have made too many requests within a short time; your request is denied due to request throttling.";
    ThrottlingUser => 400, "Throttling.User", "Request was denied due to user flow control.";
    IdempotentParameterMismatch => 400, "IdempotentParameterMismatch", "The request is retried with updated parameters.";
    RequestEntityTooLarge => 413, "RequestEntityTooLarge", "The request body exceeds the emulator's limit of <N> bytes.";
    // The emulator's own limits (no documented counterpart; named like the one above).
    MalformedRequest => 400, "MalformedRequest", "The request is not well-formed HTTP/1.1.";
    RequestUriTooLong => 414, "RequestURITooLong", "The request target exceeds the emulator's limit of <N> bytes.";
    RequestHeaderFieldsTooLarge => 431, "RequestHeaderFieldsTooLarge", "The request headers exceed the emulator's limits of <N>.";
    TooManyParameters => 400, "TooManyParameters", "The request has more than the emulator's limit of <N> parameters.";
    RequestTimeout => 408, "RequestTimeout", "The request was not received within the emulator's limit of <N> seconds.";
    OperationConflict => 409, "OperationConflict", "Request was denied due to conflict with a previous request.";
    InternalError => 500, "InternalError", "The request processing has failed due to some unknown error, exception or failure.";
    ServiceUnavailable => 503, "ServiceUnavailable", "The request has failed due to a temporary failure of the server.";
    // KMS.
    KeyNotFound => 404, "Forbidden.KeyNotFound", "The specified Key is not found.";
    AliasNotFound => 404, "Forbidden.AliasNotFound", "The specified Alias is not found.";
    AliasAlreadyExists => 400, "AliasAlreadyExists", "AliasName Already Exists.";
    StateModifiedFailed => 409, "Rejected.StateModifiedFailed", "Keystate modified failed.";
    NoPermission => 403, "Forbidden.NoPermission", "This operation is forbidden by permission system.";
    KmsServiceNotEnabled => 403, "Forbidden.KmsServiceNotEnabled", "The KMS service is not enabled.";
    // Cloud disks (`disks.md` §3): each action's page gives these. A code repeated from above
    // with another status or message is that page's own entry (`errors.md`); it comes after
    // the first, which a fault naming the code gets.
    MissingSizeOrSnapshot => 400, "MissingParameter", "The input parameter either \"SnapshotId\" or \"Size\" should be specified.";
    InvalidDiskCategory => 400, "InvalidDiskCategory.ValueNotSupported", "The specified parameter \"DiskCategory\" is not valid.";
    InvalidPerformanceLevel => 400, "InvalidPerformanceLevel.Malformed", "The specified parameter PerformanceLevel is not valid.";
    InvalidDiskName => 400, "InvalidDiskName.Malformed", "The specified disk name is wrongly formed.";
    InvalidDescription => 400, "InvalidDescription.Malformed", "The specified description is wrongly formed.";
    InvalidTagKey => 400, "InvalidTagKey.Malformed", "The specified Tag.n.Key is not valid.";
    InvalidTagValue => 400, "InvalidTagValue.Malformed", "The specified Tag.n.Value is not valid.";
    DuplicateTagKey => 400, "Duplicate.TagKey", "The Tag.N.Key contain duplicate key.";
    InvalidTagCount => 400, "InvalidTagCount", "The specified tags are beyond the permitted range.";
    InvalidMultiAttach => 403, "InvalidParameter.MultiAttach", "The specified param MultiAttach is not valid.";
    EncryptedIllegal => 400, "InvalidParameter.EncryptedIllegal", "The specified parameter Encrypted must be true when kmsKeyId is not empty.";
    ZoneIdAndInstanceIdConflict => 403, "InvalidParam.ZoneIdAndInstanceId.Conflict", "The specified parameter 'ZoneId' and 'InstanceId' are not blank at the same time.";
    InvalidInstanceIdNotFound => 404, "InvalidInstanceId.NotFound", "The specified InstanceId does not exist.";
    InvalidSnapshotIdNotFound => 404, "InvalidSnapshotId.NotFound", "The specified SnapshotId does not exist.";
    InvalidZoneIdNotFound => 404, "InvalidZoneId.NotFound", "The specified zone does not exist.";
    InvalidDataDiskCategory => 400, "InvalidDataDiskCategory.NotSupported", "Specified disk category is not supported.";
    InvalidDataDiskSize => 403, "InvalidDataDiskSize.ValueNotSupported", "The specified disk size is beyond the permitted range, or the snapshot capacity exceeds the size limit for the specified disk category.";
    PerformanceLevelNotMatch => 403, "OperationDenied.PerformanceLevelNotMatch", "The specified PerformanceLevel and Size do not match.";
    ClientTokenUsed => 403, "IdempotentParameterMismatch", "The specified clientToken is used.";
    NotMatchDiskDefaultEncryption => 403, "InvalidEncrypted.NotMatchDiskDefaultEncryption", "Enabling disk default encryption prevents the creation of non-encrypted disks.";
    DiskKmsKeyIdNotFound => 404, "InvalidParameter.KMSKeyId.NotFound", "The specified KMSKeyId does not exist.";
    CmkNotActive => 403, "InvalidParameter.KMSKeyId.CMKNotEnabled", "The CMK (Customer Master Key) must be in an active state.";
    InvalidDiskIdsFormat => 400, "InvalidParameter.DiskIds", "The specified parameter diskIds is not valid.";
    TooManyDiskIds => 403, "InvalidDiskIds.Malformed", "The amount of specified disk Ids exceeds the limit.";
    InvalidDiskType => 400, "InvalidDiskType.ValueNotSupported", "The specified disk type is not supported.";
    InvalidCategory => 400, "InvalidCategory.ValueNotSupported", "The specified disk category is not supported.";
    InvalidStatus => 400, "InvalidStatus.ValueNotSupported", "The specified disk status is not supported.";
    ZoneIdNotInRecords => 400, "InvalidZoneId.NotFound", "The zoneId provided does not exist in our records.";
    InvalidDiskIdNotFound => 404, "InvalidDiskId.NotFound", "The specified disk does not exist.";
    IncorrectDiskStatus => 403, "IncorrectDiskStatus", "The current disk status does not support this operation.";
    DiskIdAndDiskIdsConflict => 400, "ParameterConflict.DiskIdAndDiskIds", "Specified parameter DiskId and DiskIds conflict, only one can be chosen.";
    MissingDiskIdOrDiskIds => 400, "MissingParameter.DiskIdOrDiskIds", "Specified parameter DiskId or DiskIds is missing.";
    NoAttributeToModify => 400, "NoAttributeToModify", "No attribute to be modified in this request.";
    DiskSizeTooSmall => 403, "InvalidDiskSize.TooSmall", "Specified new disk size is less than the original disk size.";
    DiskSizeTooLarge => 403, "InvalidDiskSize.TooLarge", "Specified new disk size is beyond the permitted range.";
    // STS (`sts.md` §4: the AssumeRole API page's own entries, its spacing included).
    InvalidRoleArn => 400, "InvalidParameter.RoleArn", "The parameter RoleArn is wrongly formed.";
    InvalidRoleSessionName => 400, "InvalidParameter.RoleSessionName", "The parameter RoleSessionName is wrongly formed.";
    InvalidDurationSeconds => 400, "InvalidParameter.DurationSeconds", "The Min/Max value of DurationSeconds is 15min/1hr.";
    InvalidPolicySize => 400, "InvalidParameter.PolicySize", "The size of Policy must be smaller than 2048 bytes.";
    InvalidPolicyGrammar => 400, "InvalidParameter.PolicyGrammar", "The parameter Policy has not passed grammar check.";
    InvalidExternalId => 400, "InvalidParameter.ExternalId", "The parameter ExternalId is wrongly formed.";
    StsNoPermission => 403, "NoPermission", "You are not authorized to do this action. You should be authorized by RAM.";
    RoleNotExist => 404, "EntityNotExist.Role", "The specified Role not exists .";
}

impl ErrorCode {
    /// The template with its placeholder replaced by `arg` (the template alone when it has none).
    pub fn render(self, arg: &str) -> String {
        let template = self.template();
        match (template.find('<'), template.rfind('>')) {
            (Some(start), Some(end)) if start < end => {
                format!("{}{}{}", &template[..start], arg, &template[end + 1..])
            }
            _ => template.to_owned(),
        }
    }

    /// Whether the template takes a run-time argument.
    pub fn takes_argument(self) -> bool {
        self.template().contains('<')
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn no_entry_repeats_and_every_code_has_status_and_message() {
        // A code may repeat with another status or message (`errors.md`: one entry per
        // (code, status, message) that exists); an entry never repeats.
        let mut seen = HashSet::new();
        for code in ErrorCode::ALL {
            assert!(
                seen.insert((code.wire(), code.status(), code.template())),
                "{} repeats",
                code.wire()
            );
            assert!((400..600).contains(&code.status()), "{}", code.wire());
            assert!(!code.template().is_empty(), "{}", code.wire());
        }
    }

    #[test]
    fn placeholders_are_filled() {
        assert_eq!(
            ErrorCode::MissingParameter.render("RegionId"),
            "The input parameter \"RegionId\" that is mandatory for processing this request is not supplied."
        );
        assert_eq!(
            ErrorCode::KmsKeyIdNotFound.render("key-x"),
            "The specified KMSKeyId not found, key-x."
        );
        assert_eq!(
            ErrorCode::SignatureDoesNotMatch.render("GET&%2F&a"),
            "Specified signature is not matched with our calculation. server string to sign is:GET&%2F&a"
        );
        assert_eq!(
            ErrorCode::CmkNotEnabled.render("ignored"),
            "The CMK needs to be enabled."
        );
    }
}
