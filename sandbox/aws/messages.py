"""Every text the sandbox's AWS endpoint answers with: its error messages, failure issues and reasons, once each.

Where EKS's own text is documented it is copied; where it is not, the comment says so and the text names the
parameter and the rule. Templates are filled with `str.format` by the models.
"""

from __future__ import annotations

# --- shared by several operations -------------------------------------------------------------------------
CLUSTER_NOT_FOUND = "No cluster found for name: {cluster}."
CLUSTER_NAME_IN_USE = "Cluster already exists with name: {name}"
UPDATE_NOT_FOUND = "No update found for ID: {update_id}."
BAD_NEXT_TOKEN = "The nextToken is invalid"
MAX_RESULTS_RANGE = "maxResults must be between 1 and {limit}"
# EKS documents the token ("unique, case-sensitive identifier that you provide to ensure the idempotency of
# the request") but not the error for a token sent again with other parameters; this is the closest
# modelled answer, an InvalidParameterException naming the token.
TOKEN_REUSED = "Client request token {token} was already used for a different request"

# --- the endpoint itself ----------------------------------------------------------------------------------
INJECTED_FAULT = "injected {kind} for {operation}"
SANDBOX_ERROR = "sandbox error: {error}"

# --- Fargate profiles -------------------------------------------------------------------------------------
PROFILE_NOT_FOUND = "No Fargate Profile found with name: {name}."
PROFILE_EXISTS = "A Fargate Profile already exists with this name in this cluster."
PROFILE_OPERATION_IN_PROGRESS = (
    "Cannot {verb} Fargate Profile {name} because cluster {cluster} currently has Fargate profile {other} "
    "in status {status}"
)
PROFILE_CLUSTER_UPDATING = (
    "Cannot {verb} Fargate Profile {name} because cluster {cluster} currently has an update in progress"
)
PROFILE_LIMIT = "Cluster {cluster} already has the maximum number of Fargate profiles (10)"
# EKS's text for profiles that are ACTIVE or CREATING; for profiles in other states (DELETING, *_FAILED) its
# text is not documented and this one names their states the same way.
CLUSTER_HAS_PROFILES = "Cluster has Fargate Profiles in {states} state"
PROFILE_CREATE_FAILED_ISSUE = (
    "AccessDenied",
    "The pod execution role {role} cannot be assumed by eks-fargate-pods.amazonaws.com",
)
PROFILE_DELETE_FAILED_ISSUE = (
    "InternalFailure",
    "Deleting Fargate profile {name} failed because of an internal failure",
)
TAGGED_RESOURCE_NOT_FOUND = "Resource was not found: {arn}"
TAGS_EMPTY = "tags must be a non-empty map"

# --- what CreateFargateProfile refuses before it makes anything -------------------------------------------
PROFILE_NAME_REQUIRED = "fargateProfileName is required"
NEEDS_SELECTOR = "Fargate Profile requires at least one selector."
NEEDS_NAMESPACE = "Fargate Profile must have at least one selector with at least one namespace value."
TOO_MANY_SELECTORS = "Fargate Profile cannot have more than 5 selectors"
TOO_MANY_LABELS = "Request contains Selector with more than 5 Label pairs"
RESERVED_PREFIX = "Fargate Profile name cannot start with the reserved prefix 'eks-'"
BAD_PROFILE_NAME = (
    "Fargate Profile name must be 1-100 characters, start with a letter or digit and contain only letters, "
    "digits, hyphens and underscores"
)
NEEDS_ROLE = "podExecutionRoleArn is required"
# EKS's text for an ARN that is not a role's is not documented; this names the parameter and the rule.
BAD_ROLE_ARN = "podExecutionRoleArn {arn} is not an IAM role ARN"
# EKS's own answer for a role it cannot find or that does not trust Fargate (Terraform retries on it while a
# new role propagates, which is a role EKS cannot see yet).
ROLE_TRUST = (
    "Misconfigured PodExecutionRole Trust Policy; Please add the eks-fargate-pods.amazonaws.com Service Principal"
)
NOT_PRIVATE = "Subnet {subnet} provided in Fargate Profile is not a private subnet"  # EKS's own text
# For a subnet that does not exist EKS passes on EC2's InvalidSubnetID.NotFound text; for one outside the
# cluster's VPC its text is not documented, so this says it in the words of the private-subnet message.
NO_SUCH_SUBNET = "The subnet ID '{subnet}' does not exist"
OTHER_VPC = "Subnet {subnet} provided in Fargate Profile is not in the VPC of cluster {cluster}"
# A profile without subnets gets the cluster's private subnets; EKS's text when it has none is not documented.
NO_PRIVATE_SUBNETS = (
    "Fargate Profile needs private subnets: none were given and cluster {cluster} has no private subnet"
)

# --- registered (connected) clusters ----------------------------------------------------------------------
NOT_EXISTING_ROLE = "Not existing role: {role_arn}"
ROLE_PROPAGATING = "Nonexistent role or missing ssm service principal in trust policy"
# EKS's text for deregistering a cluster it created is not documented: a ClientException (the modelled
# error that fits) pointing to DeleteCluster.
NOT_REGISTERED = "Cluster {name} is not a registered cluster; use DeleteCluster"
REGISTRATION_LIMIT = "You have reached the limit of {limit} registered clusters in this region."
BAD_CLUSTER_NAME = "name {name!r} must be 1-{limit} characters matching {pattern}"
CONNECTOR_CONFIG_REQUIRED = "connectorConfig is required"
BAD_PROVIDER = "connectorConfig.provider {provider!r} must be one of {providers}"
BAD_CONNECTOR_ROLE = "connectorConfig.roleArn {role_arn!r} is not an IAM role ARN"
TOO_MANY_TAGS = "at most {limit} tags are allowed"
BAD_TAG = "tag {key!r}: keys are 1-{key_limit} characters, values at most {value_limit}"
BAD_PAGE = "invalid maxResults or nextToken: {error}"
PAGE_SIZE_RANGE = "maxResults must be 1-{limit}"
# EKS refuses these for a connected cluster; its exact text is not documented. InvalidRequestException is the
# modelled error each of them declares for "invalid given the state of the cluster", and the message names
# the way out, as eksctl does for a registered cluster.
NOT_FOR_CONNECTED = (
    "Cluster {name} is a registered (connected) cluster: {operation} is not supported for it. "
    "Use DeregisterCluster to remove a registered cluster"
)

# --- version updates --------------------------------------------------------------------------------------
UPDATE_IN_PROGRESS = "Cluster {cluster} currently has update {update_id} in progress"
UNSUPPORTED_STEP = "Unsupported Kubernetes minor version update from {current} to {wanted}"
# EKS's text for a version it does not offer (or that is not a version at all); for the version the cluster
# already runs it answers with the minor-step text, "from X to X".
UNSUPPORTED_KUBERNETES_VERSION = "unsupported Kubernetes version"
CLUSTER_NOT_ACTIVE = "Cluster '{cluster}' is not in ACTIVE status"
NODEGROUPS_LAG = (
    "Upgrade readiness check failed (Kubelet version skew): managed node groups {nodegroups} must run "
    "Kubernetes {version} before the cluster moves to {wanted}. Update them, or pass force to override"
)
UPDATE_FAILED_ERROR_CODE = "InsufficientFreeAddresses"
UPDATE_FAILED_ERROR = "One or more of the cluster's subnets do not have enough free IP addresses for the update"
UPDATE_CANCELLED_REASON = "The update was cancelled before the control plane changed; the cluster keeps its version"
CANCEL_REQUESTED_REASON = "Cancelled by a CancelUpdate request"
NOT_CANCELLABLE = "Update {update_id} is not in progress and cannot be cancelled"
# An Auto Mode rollback can be cancelled only while EKS drifts the nodes back, before the control plane changes.
ROLLBACK_NOT_CANCELLABLE = (
    "Update {update_id} is rolling back the control plane and can no longer be cancelled; a rollback can be "
    "cancelled only while the nodes are rolled back"
)
BAD_VERSION_STATUS = "Invalid versionStatus: {status}"

# --- rollbacks --------------------------------------------------------------------------------------------
ROLLBACK_CREATED_AT = (
    "Cluster '{cluster}' has not been upgraded in place since it was created at Kubernetes version {version}; "
    "there is no upgrade to roll back"
)
ROLLED_BACK = (
    "Cluster '{cluster}' was already rolled back to Kubernetes version {version}; only the most recent in-place "
    "upgrade can be rolled back, once"
)
ROLLBACK_WINDOW = (
    "Rollback is available for 7 days after an in-place upgrade completes; the upgrade of cluster '{cluster}' to "
    "Kubernetes version {version} completed at {finished}"
)
ROLLBACK_EXTENDED = (
    "Kubernetes version {version} is in extended support; cluster '{cluster}' must have upgradePolicy "
    "supportType EXTENDED to roll back to it"
)
ROLLBACK_NODEGROUPS = (
    "Rollback readiness check failed (Kubelet version skew): managed node groups {nodegroups} run a Kubernetes "
    "version newer than {wanted}. Update them to {wanted} first, or pass force to override"
)
ROLLBACK_TIMEOUT = "rollbackConfig.timeoutMinutes must be between 120 and 10080"
NODE_PHASE_TIMEOUT_REASON = "The nodes were not rolled back within rollbackConfig.timeoutMinutes ({minutes})"

# --- add-ons ----------------------------------------------------------------------------------------------
ADDON_NOT_FOUND = "No addon: {addon} found in cluster: {cluster}"
ADDON_EXISTS = "Addon already exists."
UNSUPPORTED_ADDON = "Addon {addon} specified is not supported in {version} kubernetes version"
UNSUPPORTED_ADDON_VERSION = "Addon version specified is not supported"
# EKS's exact text for an add-on that is still changing is not documented; this says what it refuses and why.
ADDON_BUSY = "Addon {addon} cannot be updated while it is in status {status}"
ADDON_CONFLICT_ERROR_CODE = "ConfigurationConflict"
ADDON_CONFLICT_ERROR = (
    "Conflicts found when trying to apply. Will not continue due to resolve conflicts mode. "
    "Conflicts: ConfigMap {addon}-config - .data"
)

# --- insights ---------------------------------------------------------------------------------------------
# EKS's text for an id it does not know is not documented; this one names the id as its other errors do.
INSIGHT_NOT_FOUND = "No insight found for id: {id}."
NO_INSIGHTS_REFRESH = "No insights refresh found for cluster: {cluster}."
READINESS_BLOCKED = (
    "Upgrade readiness issues detected. Call the EKS ListInsights API to view upgrade blocking issues detected "
    "by EKS. Pass the force flag to override upgrade readiness errors and proceed with upgrade."
)
ROLLBACK_BLOCKED = (
    "Rollback readiness issues detected. Call the EKS ListInsights API to view rollback blocking issues detected "
    "by EKS. Pass the force flag to override rollback readiness errors and proceed with the rollback."
)
REFRESH_STARTED = "Insights refresh in progress"
REFRESH_DONE = "Insights refresh completed"
REFRESH_FAILED = "Insights refresh failed: the cluster could not be reached"

# --- STS --------------------------------------------------------------------------------------------------
EXPIRED_TOKEN = "The security token included in the request is expired"
ASSUME_ROLE_DENIED = "User: {caller} is not authorized to perform: sts:AssumeRole on resource: {arn}"
CHAINED_SESSION_TOO_LONG = (
    "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining."
)
SESSION_OVER_ROLE_MAXIMUM = "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
