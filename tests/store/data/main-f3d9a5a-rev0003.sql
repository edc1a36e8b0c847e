-- A schoonschip SQLite database as main at f3d9a5a (store revision 0003) left it, in clear:
-- one completed scan of tests/store/test_encryption.py's planted corpus (an eml folder and a
-- share whose subjects, file names, folders and owners name pupils and teachers) under
-- /tmp/h2old/school, plus a failed digest delivery and a source error naming a pupil's folder.
-- Made with that code (ScanRunner, Store.record, Store.record_source_error) and sqlite3
-- iterdump; tests/store/test_encrypt_migration.py upgrades it to the current head.
BEGIN TRANSACTION;
CREATE TABLE alembic_version (
	version_num VARCHAR(32) NOT NULL, 
	CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
);
INSERT INTO "alembic_version" VALUES('0003');
CREATE TABLE deliveries (
	owner VARCHAR(320) NOT NULL, 
	period VARCHAR(32) NOT NULL, 
	status VARCHAR(16) NOT NULL, 
	attempts INTEGER NOT NULL, 
	reason TEXT, 
	updated_at DATETIME NOT NULL, 
	PRIMARY KEY (owner, period)
);
INSERT INTO "deliveries" VALUES('annemarie.verbeek@school.nl','2026-W48','failed',1,'550 annemarie.verbeek@school.nl onbekend','2026-12-01 21:56:51.282923');
CREATE TABLE findings (
	id INTEGER NOT NULL, 
	item_id VARCHAR(32) NOT NULL, 
	entity VARCHAR(64) NOT NULL, 
	category VARCHAR(32), 
	part VARCHAR(1024) NOT NULL, 
	location VARCHAR(255), 
	start INTEGER NOT NULL, 
	"end" INTEGER NOT NULL, 
	score FLOAT NOT NULL, 
	masked VARCHAR(128) NOT NULL, 
	value_hash VARCHAR(64) NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(item_id) REFERENCES items (id) ON DELETE CASCADE
);
INSERT INTO "findings" VALUES(1,'d011b8ae088fd90f0612ef6c498f0939','CATEGORY_TERM','zorg','subject',NULL,0,23,0.75,'O**********************','32791c7417712f1fa2503646601756f5');
INSERT INTO "findings" VALUES(2,'d011b8ae088fd90f0612ef6c498f0939','STUDENT_ROSTER',NULL,'subject',NULL,24,37,0.95,'E************','22a35b0c4d1747d4100f08c3899b6192');
INSERT INTO "findings" VALUES(3,'d011b8ae088fd90f0612ef6c498f0939','CATEGORY_TERM','zorg','body',NULL,13,36,0.75,'o**********************','32791c7417712f1fa2503646601756f5');
INSERT INTO "findings" VALUES(4,'d011b8ae088fd90f0612ef6c498f0939','STUDENT_ROSTER',NULL,'body',NULL,50,63,0.95,'E************','22a35b0c4d1747d4100f08c3899b6192');
INSERT INTO "findings" VALUES(5,'d011b8ae088fd90f0612ef6c498f0939','NL_BSN','identificatie','body',NULL,79,88,0.9,'*****2333','6e98f271f363e0c0d844d4507eef3b99');
INSERT INTO "findings" VALUES(6,'d011b8ae088fd90f0612ef6c498f0939','CATEGORY_TERM','zorg','body',NULL,104,107,0.75,'O**','318aee14f249f9b2d3768ddbfd09a163');
INSERT INTO "findings" VALUES(7,'d011b8ae088fd90f0612ef6c498f0939','CATEGORY_TERM','gezondheid','body',NULL,111,119,0.75,'d*******','5bc3f45bf97574122a2074617f095df9');
INSERT INTO "findings" VALUES(8,'b26155bfa851b0faddab31941c156f5f','CATEGORY_TERM','zorg','body',NULL,0,14,0.75,'H*************','75f64fd42085cc5ecbd17216215182bd');
INSERT INTO "findings" VALUES(9,'b26155bfa851b0faddab31941c156f5f','STUDENT_ROSTER',NULL,'body',NULL,29,41,0.95,'A***********','6373b48dc3b8028ffb0b86a86db6c1ee');
INSERT INTO "findings" VALUES(10,'b26155bfa851b0faddab31941c156f5f','NL_BSN','identificatie','body',NULL,57,66,0.9,'*****2333','6e98f271f363e0c0d844d4507eef3b99');
INSERT INTO "findings" VALUES(11,'b26155bfa851b0faddab31941c156f5f','CATEGORY_TERM','zorg','body',NULL,96,113,0.75,'i****************','85befe8c2fd8d21d780cbb6ca449042c');
INSERT INTO "findings" VALUES(12,'b26155bfa851b0faddab31941c156f5f','CATEGORY_TERM','zorg','body',NULL,115,124,0.75,'f********','69841b72672e874c3e87f37438e2af8f');
CREATE TABLE it_notifications (
	"key" VARCHAR(300) NOT NULL, 
	scope VARCHAR(32) NOT NULL, 
	active BOOLEAN NOT NULL, 
	first_seen DATETIME NOT NULL, 
	last_seen DATETIME NOT NULL, 
	last_sent_day VARCHAR(10), 
	summary VARCHAR(500), 
	PRIMARY KEY ("key")
);
CREATE TABLE item_errors (
	id INTEGER NOT NULL, 
	item_id VARCHAR(32) NOT NULL, 
	run_id INTEGER NOT NULL, 
	code VARCHAR(64) NOT NULL, 
	part VARCHAR(1024), 
	message TEXT NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(item_id) REFERENCES items (id) ON DELETE CASCADE
);
CREATE TABLE items (
	id VARCHAR(32) NOT NULL, 
	source VARCHAR(255) NOT NULL, 
	source_kind VARCHAR(32) NOT NULL, 
	item_key VARCHAR(2048) NOT NULL, 
	unit_key VARCHAR(1024) NOT NULL, 
	kind VARCHAR(8) NOT NULL, 
	owner VARCHAR(320) NOT NULL, 
	department VARCHAR(255), 
	folder VARCHAR(2048), 
	title VARCHAR(1024), 
	link TEXT, 
	item_date DATETIME NOT NULL, 
	size INTEGER, 
	change_key VARCHAR(512), 
	content_hash VARCHAR(64), 
	labels JSON, 
	state VARCHAR(16) NOT NULL, 
	closed_at DATETIME, 
	first_seen_run INTEGER NOT NULL, 
	last_seen_run INTEGER NOT NULL, 
	analysed_run INTEGER, 
	analysed_at DATETIME, 
	student_data BOOLEAN, 
	categories JSON, 
	entity_counts JSON, 
	reasons JSON, 
	error_codes JSON, 
	retention_status VARCHAR(16), 
	due_date DATE, 
	rule_id VARCHAR(128), 
	action VARCHAR(64), 
	exempt_reason VARCHAR(64), 
	owner_mark VARCHAR(32), 
	tagged BOOLEAN, 
	PRIMARY KEY (id)
);
INSERT INTO "items" VALUES('d011b8ae088fd90f0612ef6c498f0939','post','eml','Onderwijskundig rapport Esmee Huisman (67).eml','.','mail','annemarie.verbeek@school.nl',NULL,'','Onderwijskundig rapport E************','/tmp/h2old/school/mail/Onderwijskundig rapport Esmee Huisman (67).eml','2019-03-05 09:00:00.000000',333,'333:1796162208641481850','1f3052e15ce68c9fc217ea49445b9e906d13f6e6ac257763d55f7e3083111dc1','[]','actief',NULL,1,1,1,'2026-12-01 21:56:51.181327',1,'["gezondheid", "identificatie", "zorg"]','{"CATEGORY_TERM": 4, "STUDENT_ROSTER": 2, "NL_BSN": 1}','["bsn:1", "leerlingenlijst:2", "term:gezondheid:1", "term:zorg:3"]','[]','verlopen','2019-09-29','mail_leerlinggegevens','dossier_en_verwijderen',NULL,NULL,0);
INSERT INTO "items" VALUES('b26155bfa851b0faddab31941c156f5f','schijf','folder','Dossier Amira Öztürk/Handelingsplan Amira Öztürk.txt','Dossier Amira Öztürk','file','bram.kuijpers@school.nl',NULL,'Dossier Amira Öztürk','Handelingsplan A***********.txt','/tmp/h2old/school/Zorgmap Verbeek/Dossier Amira Öztürk/Handelingsplan Amira Öztürk.txt','2017-03-01 00:00:00.000000',128,'128:1488326400000000000','e0243474a962bf2e3d275e3364de95dd42348e845bef9a7ad83223b783ea08b1','[]','actief',NULL,1,1,1,'2026-12-01 21:56:51.231456',1,'["identificatie", "zorg"]','{"CATEGORY_TERM": 3, "STUDENT_ROSTER": 1, "NL_BSN": 1}','["bsn:1", "leerlingenlijst:1", "term:zorg:3"]','[]','verlopen','2019-07-31','bestanden_leerlinggegevens','dossier_en_verwijderen',NULL,NULL,0);
CREATE TABLE locks (
	name VARCHAR(64) NOT NULL, 
	pid INTEGER NOT NULL, 
	host VARCHAR(255) NOT NULL, 
	token VARCHAR(64) NOT NULL, 
	acquired_at DATETIME NOT NULL, 
	heartbeat_at DATETIME NOT NULL, 
	PRIMARY KEY (name)
);
CREATE TABLE meta (
	"key" VARCHAR(64) NOT NULL, 
	setting TEXT NOT NULL, 
	updated_at DATETIME NOT NULL, 
	PRIMARY KEY ("key")
);
INSERT INTO "meta" VALUES('retention_fingerprint','a152d052181e0c3c28221d2911b3439f','2026-12-01 21:56:51.259997');
CREATE TABLE run_units (
	run_id INTEGER NOT NULL, 
	source VARCHAR(255) NOT NULL, 
	unit_key VARCHAR(1024) NOT NULL, 
	status VARCHAR(16) NOT NULL, 
	stats JSON, 
	finished_at DATETIME, 
	PRIMARY KEY (run_id, source, unit_key), 
	FOREIGN KEY(run_id) REFERENCES runs (id) ON DELETE CASCADE
);
INSERT INTO "run_units" VALUES(1,'post','.','done','{"seen": 1, "analysed": 1, "unchanged": 0, "closed": 0}','2026-12-01 21:56:51.204198');
INSERT INTO "run_units" VALUES(1,'schijf','.','done','{"seen": 0, "analysed": 0, "unchanged": 0, "closed": 0}','2026-12-01 21:56:51.218133');
INSERT INTO "run_units" VALUES(1,'schijf','Dossier Amira Öztürk','done','{"seen": 1, "analysed": 1, "unchanged": 0, "closed": 0}','2026-12-01 21:56:51.237349');
CREATE TABLE runs (
	id INTEGER NOT NULL, 
	kind VARCHAR(16) NOT NULL, 
	status VARCHAR(16) NOT NULL, 
	started_at DATETIME NOT NULL, 
	finished_at DATETIME, 
	pid INTEGER, 
	host VARCHAR(255), 
	detection_mode VARCHAR(255), 
	detection_notice TEXT, 
	stats JSON, 
	error TEXT, 
	PRIMARY KEY (id)
);
INSERT INTO "runs" VALUES(1,'scan','completed','2026-12-01 21:56:49.691539','2026-12-01 21:56:51.267561',20519,'vm','naamlijsten (geen spaCy-model)','Geen Nederlands spaCy-model (nl_core_news_sm/md/lg) geïnstalleerd. Namen worden herkend met de ingebouwde naamlijsten (minder volledig). Installeer voor betere naamherkenning een Nederlands spaCy-model: `python -m spacy download nl_core_news_md` (eenmalig, met internet) of op een offline machine `pip install nl_core_news_md-<versie>-py3-none-any.whl`, en laat detection.spacy_model op ''auto''. / No Dutch spaCy model (nl_core_news_sm/md/lg) is installed. Names are found with the built-in name lists (less complete). For better name detection install a Dutch spaCy model: `python -m spacy download nl_core_news_md` (once, online) or `pip install nl_core_news_md-<version>-py3-none-any.whl` offline, and keep detection.spacy_model at ''auto''.','{"sources": {"post": {"kind": "eml", "seen": 1, "analysed": 1, "unchanged": 0, "closed": 0, "flagged": 1, "item_errors": 0, "source_errors": 0, "units": 1, "units_done": 1, "bytes_read": 333, "seconds": 0.03059978399960528}, "schijf": {"kind": "folder", "seen": 1, "analysed": 1, "unchanged": 0, "closed": 0, "flagged": 1, "item_errors": 0, "source_errors": 0, "units": 2, "units_done": 2, "bytes_read": 128, "seconds": 0.01073962999998912}}, "retention": {"ok": 0, "binnenkort": 0, "verlopen": 2}, "executor": "inline", "finished": "2026-12-01T21:56:51.260439+00:00"}',NULL);
CREATE TABLE source_errors (
	id INTEGER NOT NULL, 
	run_id INTEGER NOT NULL, 
	source VARCHAR(255) NOT NULL, 
	unit_key VARCHAR(1024), 
	code VARCHAR(64) NOT NULL, 
	message TEXT NOT NULL, 
	at DATETIME NOT NULL, 
	PRIMARY KEY (id)
);
INSERT INTO "source_errors" VALUES(1,1,'schijf','/tmp/h2old/school/Zorgmap Verbeek/Dossier Amira Öztürk','access_denied','geen toegang tot Dossier Amira Öztürk','2026-12-01 21:56:51.283609');
CREATE TABLE units (
	source VARCHAR(255) NOT NULL, 
	unit_key VARCHAR(1024) NOT NULL, 
	label VARCHAR(1024), 
	owner VARCHAR(320), 
	cursor TEXT, 
	last_completed_run INTEGER, 
	updated_at DATETIME, 
	PRIMARY KEY (source, unit_key)
);
INSERT INTO "units" VALUES('post','.','','annemarie.verbeek@school.nl',NULL,1,'2026-12-01 21:56:51.204198');
INSERT INTO "units" VALUES('schijf','.','',NULL,NULL,1,'2026-12-01 21:56:51.218133');
INSERT INTO "units" VALUES('schijf','Dossier Amira Öztürk','Dossier Amira Öztürk',NULL,NULL,1,'2026-12-01 21:56:51.237349');
CREATE INDEX ix_items_content_hash ON items (content_hash);
CREATE INDEX ix_items_owner_status ON items (owner, retention_status);
CREATE INDEX ix_items_source_unit ON items (source, unit_key);
CREATE INDEX ix_source_errors_run ON source_errors (run_id);
CREATE INDEX ix_findings_item ON findings (item_id);
CREATE INDEX ix_findings_value_hash ON findings (value_hash);
CREATE INDEX ix_item_errors_item ON item_errors (item_id);
COMMIT;
