"""ACM: a DNS-validated certificate."""

from __future__ import annotations

from moto.acm.models import acm_backends
from moto.cloudformation.exceptions import ValidationError
from moto.core.common_models import CloudFormationModel
from moto.route53.models import route53_backends
from moto.utilities.utils import get_partition

from .base import ProjectModel, already_gone


class AcmCertificate(ProjectModel, CloudFormationModel):
    """A DNS-validated certificate, ISSUED as CloudFormation leaves it.

    With a ``HostedZoneId`` for a name in ``DomainValidationOptions``, CloudFormation writes ACM's
    validation CNAME into that zone itself and completes the resource once ACM has issued the
    certificate; here the CNAME goes into the moto zone and the certificate is ISSUED at once. A
    name without a zone (or EMAIL validation) keeps a real stack waiting for someone to validate
    it: that fails here instead of passing. The CNAME stays when the certificate goes: it is the
    same for every certificate of the name in the account (the other regions' ones too).
    """

    TYPE = "AWS::CertificateManager::Certificate"

    @classmethod
    def create(
        cls, resource_name: str, props: dict, account_id: str, region_name: str
    ) -> AcmCertificate:
        domain_name = props["DomainName"]
        names = [domain_name, *props.get("SubjectAlternativeNames", [])]
        zones = {
            o["DomainName"]: o.get("HostedZoneId") for o in props.get("DomainValidationOptions", [])
        }
        if props.get("ValidationMethod", "DNS") != "DNS":
            raise ValidationError(
                message=f"Certificate {domain_name}: the emulator validates only by DNS "
                f"(ValidationMethod {props['ValidationMethod']} waits for e-mail approval)"
            )
        unzoned = [name for name in names if not zones.get(name)]
        if unzoned:
            raise ValidationError(
                message=f"Certificate {domain_name}: no DomainValidationOptions HostedZoneId for "
                f"{', '.join(unzoned)}; CloudFormation would wait for DNS validation"
            )
        backend = acm_backends[account_id][region_name]
        arn = backend.request_certificate(
            domain_name=domain_name,
            idempotency_token=None,
            subject_alt_names=names,
            tags=props.get("Tags", []),
        )
        certificate = backend.get_certificate(arn)
        route53 = route53_backends[account_id][get_partition(region_name)]
        for option in certificate.describe()["Certificate"]["DomainValidationOptions"]:
            record, zone = option["ResourceRecord"], zones[option["DomainName"]]
            change = {
                "Action": "UPSERT",
                "ResourceRecordSet": {
                    "Name": record["Name"],
                    "Type": record["Type"],
                    "TTL": 300,
                    "ResourceRecords": [{"Value": record["Value"]}],
                },
            }
            try:
                route53.change_resource_record_sets(zone, [change])
            except Exception as error:  # noqa: BLE001 - any Route 53 refusal fails validation
                backend.delete_certificate(arn)
                raise ValidationError(
                    message=f"Certificate {domain_name}: validation record {record['Name']} "
                    f"cannot be written to hosted zone {zone}: "
                    f"{getattr(error, 'message', None) or error}"
                ) from error
        certificate.status = "ISSUED"
        resource = cls(arn, account_id, region_name)
        resource.props = props
        return resource

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls,
        original_resource: AcmCertificate,
        new_resource_name: str,
        cloudformation_json: dict,
        account_id: str,
        region_name: str,
    ) -> AcmCertificate:
        """Tags change in place (the ARN the domain name holds stays); anything else replaces
        the certificate, as in CloudFormation."""
        props = cloudformation_json["Properties"]
        untagged = {k: v for k, v in props.items() if k != "Tags"}
        if untagged != {k: v for k, v in original_resource.props.items() if k != "Tags"}:
            return super().update_from_cloudformation_json(
                original_resource, new_resource_name, cloudformation_json, account_id, region_name
            )
        certificate = acm_backends[account_id][region_name].get_certificate(
            original_resource.physical_id
        )
        certificate.tags.clear()
        certificate.tags.add(props.get("Tags", []))
        original_resource.props = props
        return original_resource

    def delete(self, account_id: str, region_name: str) -> None:
        with already_gone():
            acm_backends[account_id][region_name].delete_certificate(self.physical_id)
