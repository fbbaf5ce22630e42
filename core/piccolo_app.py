"""One piccolo app for the whole domain, so foreign keys can cross areas."""

import os

from piccolo.conf.apps import AppConfig

from core.accounts.tables import LoginAttempt, User, UserSession
from core.admission.tables import (
    AdmissionRound,
    Objection,
    PanelMember,
    Project,
    ProjectVersion,
    StepDecision,
    Vote,
)
from core.apitokens.tables import ApiToken
from core.audit.tables import AuditEvent
from core.body.tables import Body, BodyDecision, BodyMeeting, BodyMember
from core.cases.tables import CaseImport, CaseRecord, CaseVersion
from core.catalog.tables import (
    CatalogEdition,
    CatalogEditionSource,
    CatalogHospitalRoutine,
    CatalogTechnology,
)
from core.dashboard.tables import InstitutionChange
from core.evaluation.tables import (
    DataRequest,
    Evaluation,
    EvaluationFile,
    PanelExpert,
    PeriodicReview,
    Sitting,
    SittingVote,
)
from core.filing.tables import Filing, FilingSubmission
from core.grading.tables import GradingEdition, GradingOperation
from core.holidays.tables import HolidayOverride
from core.inbox.tables import InboxAddress, InboxMessage
from core.lifecycle.tables import RegionSuspension, TechnologyUse, UseEvent
from core.obligations.tables import (
    CalendarFeed,
    Obligation,
    ObligationReminder,
    ObligationSummary,
    ObligationYearSummary,
)
from core.outbox.tables import Delivery, DeliveryAttempt
from core.people.tables import Authorisation, AuthorisationEvent, Certificate, OperatorFinding
from core.qc.tables import CaseIndicatorSummary, CaseSummary, QcAnnualReport, QcSummary
from core.storage.tables import Attachment
from core.supervision.tables import CreditAnswer, RiskWarning, WarningEntry, WarningRun
from core.system.tables import JobHeartbeat, PluginSwitch
from core.tenancy.tables import Department, Institution, Region
from core.training.tables import Trainee, TrainingCourse, TrainingReview

TABLES = [Region, Institution, Department, User, UserSession, LoginAttempt, AuditEvent, PluginSwitch,
          HolidayOverride]
TABLES += [CatalogEdition, CatalogEditionSource, CatalogTechnology, CatalogHospitalRoutine]
TABLES += [Obligation, ObligationReminder, CalendarFeed, InboxMessage, InboxAddress]
TABLES += [Delivery, DeliveryAttempt]
TABLES += [Attachment, AdmissionRound, Project, ProjectVersion, StepDecision, Vote, PanelMember, Objection]
TABLES += [Filing, FilingSubmission]
TABLES += [ApiToken, CaseRecord, CaseImport, QcAnnualReport, QcSummary]
TABLES += [JobHeartbeat, CaseVersion]
TABLES += [TechnologyUse, UseEvent, RegionSuspension]
TABLES += [RiskWarning, WarningEntry, WarningRun, CreditAnswer]
TABLES += [GradingEdition, GradingOperation]
TABLES += [Evaluation, EvaluationFile, DataRequest, PanelExpert, Sitting, SittingVote, PeriodicReview]
TABLES += [Certificate, Authorisation, AuthorisationEvent, OperatorFinding]
TABLES += [Body, BodyMember, BodyMeeting, BodyDecision]
TABLES += [TrainingCourse, Trainee, TrainingReview]
TABLES += [CaseSummary, CaseIndicatorSummary, ObligationSummary, ObligationYearSummary, InstitutionChange]

APP_CONFIG = AppConfig(
    app_name="clintech",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=TABLES,
    migration_dependencies=[],
    commands=[],
)
