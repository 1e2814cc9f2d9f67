package ids

// Table 1 of GB 32100-2015 (登记管理部门代码和机构类别代码), as amended to add
// A (中央军委改革和编制办公室) and N (农业). Source: the table as published with
// the standard and reproduced in public validators; each entry lists the
// organization categories (second character) a registration authority (first
// character) may assign.
var organizationCategories = map[byte]authority{
	'1': {"机构编制", "1239"},       // 机关, 事业单位, 中央编办直接管理机构编制的群众团体, 其他
	'2': {"外交", "19"},           // 外国常住新闻机构, 其他
	'3': {"司法行政", "123459"},     // 律师执业机构, 公证处, 基层法律服务所, 司法鉴定机构, 仲裁委员会, 其他
	'4': {"文化", "19"},           // 外国在华文化中心, 其他
	'5': {"民政", "1239"},         // 社会团体, 民办非企业单位, 基金会, 其他
	'6': {"旅游", "129"},          // 外国旅游部门常驻代表机构, 港澳台地区旅游部门常驻内地（大陆）代表机构, 其他
	'7': {"宗教", "129"},          // 宗教活动场所, 宗教院校, 其他
	'8': {"工会", "19"},           // 基层工会, 其他
	'9': {"工商", "123"},          // 企业, 个体工商户, 农民专业合作社
	'A': {"中央军委改革和编制办公室", "19"}, // 军队事业单位, 其他
	'N': {"农业", "1239"},         // 组级, 村级, 乡镇级集体经济组织, 其他
	'Y': {"其他", "1"},            // 不再具体划分机构类别
}

type authority struct {
	name       string
	categories string
}

// authorityCodes lists the first characters in table order, for messages.
const authorityCodes = "1-9, A, N, Y"
